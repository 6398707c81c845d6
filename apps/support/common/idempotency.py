"""Idempotency keys: the bookkeeping behind the ``Idempotency-Key`` header (api.idempotency).

After Stripe's and pretix's: a key belongs to one caller; its first complete answer is kept
and replayed (a definitive 409 such as ``sold_out`` included: a retry must not charge again);
a key reused for another request is refused; answers that say "try again" (409 ``busy`` and
the like, 429, 5xx) are not kept, so the retry runs for real — unless they name an order the
request created (``details.order``), which a retry must not create again.
"""

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ConflictError, ServiceError
from .models import IdempotencyKey

logger = logging.getLogger(__name__)

KEY_INVALID = "idempotency_key_invalid"
KEY_REUSED = "idempotency_key_reused"
KEY_IN_USE = "idempotency_key_in_use"
MAX_KEY_LENGTH = 255
# Visible ASCII only (a UUID is a good key): no spaces, control characters or NULs.
KEY_PATTERN = r"^[!-~]{1,255}$"
_VALID_KEY = re.compile(KEY_PATTERN)
# 409s that mean "try again" (the retry must run for real); other 409s are definitive answers.
RETRYABLE_CONFLICTS = {"busy", KEY_IN_USE, "payment_in_progress", "gateway_unavailable"}


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: Any


def fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps(
        [method, path, body], sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key_claim(*, user_id: int, key: str, request_fingerprint: str) -> Replay | None:
    """Claim ``key`` for a new request (returns ``None``), or the kept answer to replay.

    The claim commits on its own, before the request's work starts, so that a concurrent
    retry sees it.
    """
    if not _VALID_KEY.fullmatch(key):
        raise ServiceError(
            _("Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good key)."),
            code=KEY_INVALID,
            field="Idempotency-Key",
        )
    now = timezone.now()
    oldest = now - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    abandoned = now - timedelta(seconds=settings.IDEMPOTENCY_ABANDONED_SECONDS)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    user_id=user_id, key=key, fingerprint=request_fingerprint
                )
            return None
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
            if existing is None:  # finished with a "try again" answer a moment ago
                continue
            if existing.created_at < oldest:
                existing.delete()
                continue
            if existing.fingerprint != request_fingerprint:
                raise ServiceError(
                    _("This Idempotency-Key was used for a different request."),
                    code=KEY_REUSED,
                    field="Idempotency-Key",
                ) from None
            if existing.status_code is None and existing.created_at < abandoned:
                # Its request died without an answer (a killed worker): start again.
                existing.delete()
                continue
            if existing.status_code is None:
                raise ConflictError(
                    _("A request with this Idempotency-Key is still being processed."),
                    code=KEY_IN_USE,
                    retry_after=1,
                ) from None
            return Replay(status_code=existing.status_code, body=json.loads(existing.response_json))
    raise ConflictError(
        _("A request with this Idempotency-Key is still being processed."),
        code=KEY_IN_USE,
        retry_after=1,
    )


def idempotency_key_finish(*, user_id: int, key: str, status_code: int, body: Any) -> None:
    """Keep the answer, or release the key when the answer says to try again.

    If the answer cannot be kept, the key is released all the same: a key must never stay
    "in use" after its request has ended.
    """
    keys = IdempotencyKey.objects.filter(user_id=user_id, key=key, status_code__isnull=True)
    code = body.get("code") if isinstance(body, dict) else None
    details = body.get("details") if isinstance(body, dict) else None
    # A refusal that names an order it created (a one-request buy whose payment did not go
    # through) is kept: running the retry for real would place a second order.
    created = isinstance(details, dict) and "order" in details
    if not created and (
        status_code == 429
        or status_code >= 500
        or (status_code == 409 and code in RETRYABLE_CONFLICTS)
    ):
        keys.delete()
        return
    try:
        keys.update(
            status_code=status_code,
            response_json=json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=True),
        )
    except (DatabaseError, TypeError, ValueError):
        logger.exception("Could not keep the answer of an Idempotency-Key; releasing it.")
        keys.delete()


def idempotency_keys_prune() -> int:
    """Delete keys older than ``IDEMPOTENCY_KEY_HOURS``; returns how many."""
    oldest = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
    deleted, _counts = IdempotencyKey.objects.filter(created_at__lt=oldest).delete()
    return deleted
