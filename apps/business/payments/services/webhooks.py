"""Gateway webhooks: verify, store raw, process idempotently, retry with backoff, replay.

Gateways deliver at least once, late and out of order (Stripe retries for three days). Every
effect below is idempotent under the order's lock, so ten deliveries of one event have one
effect; an event that comes before what it needs (a refund before its payment settled) is kept
as failed and tried again with backoff, and again at once when the payment settles, so events
in any order end in the same state.
"""

import logging
import random
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.integrations.payments import (
    EventKind,
    GatewayError,
    WebhookRejected,
    get_gateway,
)
from apps.integrations.payments import WebhookEvent as ParsedEvent
from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, ServiceError
from apps.support.common.locking import BUSY
from apps.support.common.services import email_send_on_commit
from apps.support.security.models import User
from apps.support.security.roles import Role

from .. import errors
from ..models import (
    Payment,
    PaymentStatus,
    WebhookEvent,
    WebhookStatus,
)
from .common import lock_order
from .payments import payment_fail, payment_resume, payment_succeed
from .refunds import refunds_reconcile

logger = logging.getLogger(__name__)

# Gateways stop retrying after three days (Stripe); so does the park.
RETRY_WINDOW = timedelta(days=3)
LONGEST_BACKOFF = timedelta(hours=6)
# Conflicts that go away by themselves: try the event again later.
_TRANSIENT = {BUSY, errors.NOT_SETTLED_YET, errors.GATEWAY_UNAVAILABLE}


def webhook_receive(*, gateway_name: str, headers: dict[str, str], body: bytes) -> WebhookEvent:
    """Verify a gateway's delivery, store it raw, and process it once (by event id)."""
    gateway = get_gateway(gateway_name)
    if gateway is None:
        raise ServiceError(
            _("%(gateway)s is not a payment gateway enabled here.") % {"gateway": gateway_name},
            code=errors.UNKNOWN_GATEWAY,
        )
    try:
        parsed = gateway.parse_webhook(headers=headers, body=body)
    except WebhookRejected as error:
        logger.warning("Rejected a %s webhook: %s", gateway_name, error)
        raise ServiceError(
            _("The webhook was refused: its signature or its body does not check out."),
            code=errors.WEBHOOK_REJECTED,
        ) from error
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            gateway=gateway_name,
            event_id=parsed.event_id,
            defaults={
                "event_type": parsed.event_type,
                "gateway_reference": parsed.gateway_reference or parsed.capture_reference,
                "body": body.decode("utf-8"),
            },
        )
        if not created:
            WebhookEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)
    # A repeat of a processed or ignored event changes nothing; a failed one is tried again.
    if event.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED):
        return event
    return webhook_event_process(event=event)


def webhook_event_process(*, event: WebhookEvent) -> WebhookEvent:
    """Apply a stored event (again): on receipt, by the retry job and by replays."""
    WebhookEvent.objects.filter(pk=event.pk).update(attempts=F("attempts") + 1)
    gateway = get_gateway(event.gateway)
    if gateway is None:
        return _mark(event, WebhookStatus.FAILED, "gateway not enabled")
    try:
        parsed = gateway.event_from_stored_body(event.body.encode())
    except WebhookRejected as error:
        return _mark(event, WebhookStatus.FAILED, str(error))
    if parsed.kind is None:
        return _mark(event, WebhookStatus.IGNORED, "not an event the park acts on")
    payment = _payment_of(event.gateway, parsed)
    if payment is None:
        # Possibly earlier than the payment's own record (or not the park's at all).
        return _defer(event, "no payment with this reference")
    try:
        _apply(parsed, payment)
    except ConflictError as conflict:
        if conflict.code in _TRANSIENT:
            return _defer(event, str(conflict.message))
        # Not deliverable (sold out after the hold, order cancelled): refunded on the way.
        event = _mark(event, WebhookStatus.PROCESSED, str(conflict.message))
    except GatewayError as error:
        return _defer(event, f"gateway: {error}")
    else:
        event = _mark(event, WebhookStatus.PROCESSED, "")
    if parsed.kind in (EventKind.PAYMENT_SUCCEEDED, EventKind.PAYMENT_APPROVED):
        _process_waiting(payment)
    return event


def _apply(parsed: ParsedEvent, payment: Payment) -> None:
    if parsed.kind == EventKind.PAYMENT_SUCCEEDED:
        payment_succeed(
            payment=payment,
            gateway_reference=payment.gateway_reference,
            capture_reference=parsed.capture_reference,
        )
    elif parsed.kind == EventKind.PAYMENT_FAILED:
        if payment.status == PaymentStatus.PENDING:
            payment_fail(payment=payment, code=parsed.failure_code, message=parsed.failure_message)
    elif parsed.kind == EventKind.PAYMENT_APPROVED:
        payment_resume(payment=payment)
    elif parsed.kind == EventKind.REFUNDS_CHANGED:
        refunds_reconcile(payment=payment)
    elif parsed.kind == EventKind.DISPUTE_OPENED:
        order_dispute(payment=payment, event=parsed)


def _payment_of(gateway: str, parsed: ParsedEvent) -> Payment | None:
    matches = Q()
    if parsed.gateway_reference:
        matches |= Q(gateway_reference=parsed.gateway_reference)
    if parsed.capture_reference:
        matches |= Q(capture_reference=parsed.capture_reference)
    if not matches:
        return None
    return Payment.objects.filter(matches, method=gateway).select_related("order").first()


def _process_waiting(payment: Payment) -> None:
    """Events of this payment that came too early are tried again now that it settled."""
    references = [ref for ref in (payment.gateway_reference, payment.capture_reference) if ref]
    waiting = WebhookEvent.objects.filter(
        gateway=payment.method, status=WebhookStatus.FAILED, gateway_reference__in=references
    ).order_by("received_at", "pk")
    for event in waiting:
        webhook_event_process(event=event)


def order_dispute(*, payment: Payment, event: ParsedEvent) -> None:
    """The buyer's bank disputes the payment: the order is marked and finance is told."""
    with transaction.atomic():
        order = lock_order(payment.order_id)
        if order.disputed_at is not None:
            return
        order.disputed_at = timezone.now()
        order.save(update_fields=["disputed_at", "updated_at"])
        audit.record(
            action="payments.order.disputed",
            actor=audit.SYSTEM,
            target=order,
            metadata={
                "payment": payment.pk,
                "method": payment.method,
                "event": event.event_id,
                "amount_minor": event.amount_minor,
            },
        )
        finance = list(
            User.objects.filter(groups__name=Role.FINANCE, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
            .distinct()
        )
        if finance:
            email_send_on_commit(
                subject=_("Dispute opened on order %(code)s") % {"code": order.code},
                body=_(
                    "The buyer's bank opened a dispute on the %(method)s payment of order "
                    "%(code)s (%(amount)s %(currency)s). Answer it in the gateway's dashboard "
                    "before its deadline."
                )
                % {
                    "method": payment.method,
                    "code": order.code,
                    "amount": payment.amount,
                    "currency": payment.currency,
                },
                to=finance,
            )


def webhook_events_retry_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Try again the failed events whose backoff ran out (a periodic job). Returns how many."""
    now = now or timezone.now()
    due = list(
        WebhookEvent.objects.filter(status=WebhookStatus.FAILED, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "pk"
        )[:limit]
    )
    for event in due:
        webhook_event_process(event=event)
    return len(due)


def _defer(event: WebhookEvent, reason: str) -> WebhookEvent:
    """Failed for now: tried again after a backoff that doubles, with jitter, for as long as
    the gateway itself would retry; then it stays failed (or ignored, when no payment of the
    park ever matched it) for finance to see and replay."""
    event.refresh_from_db(fields=["attempts", "received_at"])
    now = timezone.now()
    if now - event.received_at > RETRY_WINDOW:
        if reason == "no payment with this reference":
            return _mark(event, WebhookStatus.IGNORED, reason)
        return _mark(event, WebhookStatus.FAILED, reason)
    backoff = min(timedelta(minutes=2 ** min(event.attempts, 12)), LONGEST_BACKOFF)
    jitter = backoff * random.uniform(0, 0.2)  # noqa: S311 (not a secret)
    return _mark(event, WebhookStatus.FAILED, reason, next_attempt_at=now + backoff + jitter)


def _mark(
    event: WebhookEvent, status: str, error: str, *, next_attempt_at: datetime | None = None
) -> WebhookEvent:
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status,
        last_error=error,
        processed_at=timezone.now(),
        next_attempt_at=next_attempt_at,
    )
    event.refresh_from_db()
    return event
