"""Emails sent once per key, by tasks that may run twice (docs/adr/0042).

Celery delivers a task at least once: with ``acks_late`` a task whose worker dies is
delivered again, and the same work can be queued twice. ``send_once`` makes the email of a
task idempotent:

1. claim the key (a short transaction): already sent → nothing to do; claimed by a live
   worker (its lease not over) → ``DeliveryInProgress``, the task retries later;
2. hand the message to the mail server, outside any transaction;
3. mark it sent.

A worker killed between 2 and 3 (milliseconds) leaves a claim that the next attempt takes
over once its lease ends, and the email goes out again: at least once, not lost to a worker
that dies. A worker killed before 2 (rendering the PDF, connecting) sends nothing, and the
redelivered task sends it once. A task that spends all its retries (the mail server refusing
for hours, the time limit) leaves the row ``sending``: the back office lists it.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .locking import lock_rows
from .models import DeliveryStatus, EmailDelivery

logger = logging.getLogger(__name__)


class DeliveryInProgress(Exception):
    """Another worker holds the key's claim; try again in ``retry_after`` seconds (when its
    lease ends)."""

    def __init__(self, key: str, retry_after: float) -> None:
        super().__init__(f"{key}: claimed by another worker for {retry_after:.0f} s more")
        self.retry_after = max(1.0, retry_after)


def _claim(key: str) -> bool:
    """True when this worker now holds the claim; False when the email was sent already."""
    now = timezone.now()
    with transaction.atomic():
        rows = lock_rows(EmailDelivery.objects.filter(key=key))
        if rows:
            delivery = rows[0]
            if delivery.status == DeliveryStatus.SENT:
                return False
            if delivery.claimed_until and delivery.claimed_until > now:
                raise DeliveryInProgress(key, (delivery.claimed_until - now).total_seconds())
            if delivery.claimed_until:
                logger.warning("Email %s: taking over the claim of a worker that stopped", key)
        else:
            try:
                with transaction.atomic():
                    delivery = EmailDelivery.objects.create(key=key)
            except IntegrityError as error:  # another worker created it a moment ago
                raise DeliveryInProgress(key, 1.0) from error
        delivery.status = DeliveryStatus.SENDING
        delivery.attempts += 1
        delivery.claimed_until = now + timedelta(seconds=settings.EMAIL_DELIVERY_LEASE_SECONDS)
        delivery.save(update_fields=["status", "attempts", "claimed_until"])
    return True


def _release(key: str) -> None:
    """The mail server refused or did not answer: the next attempt may send at once."""
    EmailDelivery.objects.filter(key=key, status=DeliveryStatus.SENDING).update(claimed_until=None)


def send_once(key: str, message: Any) -> int:
    """Send ``message`` (an ``EmailMessage``) unless the email of ``key`` went out already;
    how many messages were sent (0 or 1). Raises ``DeliveryInProgress`` while another worker
    holds the claim, and the mail server's error (after releasing the claim)."""
    if not _claim(key):
        logger.info("Email %s was sent already; not sent again", key)
        return 0
    try:
        sent = message.send()
    except BaseException:
        _release(key)
        raise
    EmailDelivery.objects.filter(key=key).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), claimed_until=None
    )
    return int(sent)
