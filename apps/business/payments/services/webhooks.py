"""Gateway webhooks: verify, store raw, process once by event id, replay."""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.integrations.payments import (
    EventKind,
    WebhookRejected,
    get_gateway,
)
from apps.support.common.errors import (
    ConflictError,
    ServiceError,
)
from apps.support.common.locking import BUSY

from .. import errors
from ..models import (
    Payment,
    PaymentStatus,
    WebhookEvent,
    WebhookStatus,
)
from .payments import payment_fail, payment_succeed

logger = logging.getLogger(__name__)

# --- Webhooks ---------------------------------------------------------------------------


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
                "gateway_reference": parsed.gateway_reference,
                "body": body.decode("utf-8", errors="replace"),
            },
        )
        if not created:
            WebhookEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)
    # A repeat of a processed event changes nothing; an ignored or failed one is tried again
    # (e.g. it arrived before the payment it settles was written).
    if event.status == WebhookStatus.PROCESSED:
        return event
    return webhook_event_process(event=event)


def webhook_event_process(*, event: WebhookEvent) -> WebhookEvent:
    """Apply a stored event (again): used on receipt and by replays (admin, command)."""
    gateway = get_gateway(event.gateway)
    if gateway is None:
        return _webhook_mark(event, WebhookStatus.FAILED, "gateway not enabled")
    try:
        parsed = gateway.event_from_stored_body(event.body.encode())
    except WebhookRejected as error:
        return _webhook_mark(event, WebhookStatus.FAILED, str(error))
    if parsed.kind not in (EventKind.PAYMENT_SUCCEEDED, EventKind.PAYMENT_FAILED):
        return _webhook_mark(event, WebhookStatus.IGNORED, "not a payment settlement")
    payment = Payment.objects.filter(
        method=event.gateway, gateway_reference=event.gateway_reference
    ).first()
    if payment is None:
        return _webhook_mark(event, WebhookStatus.IGNORED, "no payment with this reference")
    try:
        if parsed.kind == EventKind.PAYMENT_SUCCEEDED:
            payment_succeed(payment=payment, gateway_reference=event.gateway_reference)
        elif payment.status == PaymentStatus.PENDING:
            payment_fail(payment=payment, code=parsed.failure_code, message=parsed.failure_message)
    except ConflictError as conflict:
        if conflict.code in (BUSY, errors.REFUND_FAILED):
            # Retried by the gateway's next delivery, webhooks_replay or the back office.
            return _webhook_mark(event, WebhookStatus.FAILED, str(conflict.message))
        # Not deliverable (sold out after the hold, order cancelled): refunded above.
        return _webhook_mark(event, WebhookStatus.PROCESSED, str(conflict.message))
    return _webhook_mark(event, WebhookStatus.PROCESSED, "")


def _webhook_mark(event: WebhookEvent, status: str, error: str) -> WebhookEvent:
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error=error, processed_at=timezone.now()
    )
    event.refresh_from_db()
    return event
