"""The sandbox gateway: the embedded default, no network.

It approves by default. ``options["outcome"]`` makes it decline (``"decline"``) or answer
"pending" and wait for a webhook (``"later"``); the pending answer's ``next_action`` carries the
signed webhook bodies that settle it, which a front end or a tester posts to
``/api/v1/payments/webhooks/sandbox/`` — the same path Stripe's and PayPal's webhooks take.

It keeps a ledger of what it charged and refunded (``apps.integrations.models.SandboxLedgerEntry``),
written as it answers, outside the park's transactions: its statement for reconciliation
(``transactions``), as a real gateway's dashboard is (docs/adr/0031). Like a real gateway it
answers a repeated idempotency key with its first answer.

Webhooks are signed like Stripe's: header ``Sandbox-Signature: t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<raw body>">`` with ``PAYMENTS_SANDBOX_WEBHOOK_SECRET``, and refused when older than five
minutes.
"""

import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from .base import (
    EventKind,
    GatewayTransaction,
    PaymentOutcome,
    PaymentRequest,
    PaymentResult,
    RefundOutcome,
    RefundResult,
    TransactionKind,
    TransactionStatus,
    WebhookEvent,
    WebhookRejected,
)

if TYPE_CHECKING:
    from ..models import SandboxLedgerEntry

SIGNATURE_HEADER = "Sandbox-Signature"
TOLERANCE_SECONDS = 300
OUTCOMES = ("approve", "decline", "later")


# What the sandbox answered for a payment, by the state its ledger keeps of it.
_PAYMENT_STATUS = {
    PaymentOutcome.SUCCEEDED: TransactionStatus.SUCCEEDED,
    PaymentOutcome.PENDING: TransactionStatus.PENDING,
    PaymentOutcome.DECLINED: TransactionStatus.FAILED,
}
_SETTLING_EVENTS = {
    "payment.succeeded": TransactionStatus.SUCCEEDED,
    "payment.failed": TransactionStatus.FAILED,
}


def _ledger() -> "type[SandboxLedgerEntry]":
    from ..models import SandboxLedgerEntry  # a model: loaded once the apps are

    return SandboxLedgerEntry


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class SandboxGateway:
    name = "sandbox"
    charges_on_start = True

    def __init__(self, *, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret

    def public_config(self) -> dict[str, Any]:
        return {"test_options": list(OUTCOMES)}

    def start_payment(self, request: PaymentRequest) -> PaymentResult:
        earlier = (
            _ledger()
            .objects.filter(kind=TransactionKind.PAYMENT, idempotency_key=request.idempotency_key)
            .first()
        )
        if earlier is not None:  # a retry of the same attempt: its first answer
            outcome = {
                TransactionStatus.SUCCEEDED: "approve",
                TransactionStatus.FAILED: "decline",
            }.get(TransactionStatus(earlier.status), "later")
            return self._payment_answer(outcome, earlier.reference)
        outcome = request.options.get("outcome", "approve")
        reference = f"sbx_pay_{secrets.token_hex(12)}"
        result = self._payment_answer(outcome, reference)
        _ledger().objects.create(
            kind=TransactionKind.PAYMENT,
            reference=reference,
            payment_reference=reference,
            amount_minor=request.amount_minor,
            currency=request.currency.upper(),
            status=_PAYMENT_STATUS[result.outcome],
            idempotency_key=request.idempotency_key,
            occurred_at=timezone.now(),
        )
        return result

    def _payment_answer(self, outcome: str, reference: str) -> PaymentResult:
        if outcome == "decline":
            return PaymentResult(
                outcome=PaymentOutcome.DECLINED,
                gateway_reference=reference,
                failure_code="card_declined",
                failure_message="The sandbox declined the payment, as asked.",
            )
        if outcome == "later":
            return PaymentResult(
                outcome=PaymentOutcome.PENDING,
                gateway_reference=reference,
                next_action={
                    "type": "sandbox_webhook",
                    "approve": self.signed_event(reference, "payment.succeeded"),
                    "decline": self.signed_event(reference, "payment.failed"),
                },
            )
        return PaymentResult(outcome=PaymentOutcome.SUCCEEDED, gateway_reference=reference)

    def resume_payment(self, *, gateway_reference: str, idempotency_key: str) -> PaymentResult:
        # A pending sandbox payment is settled only by posting one of the signed webhooks its
        # start answered (its ledger learns the outcome then).
        return PaymentResult(outcome=PaymentOutcome.PENDING, gateway_reference=gateway_reference)

    def refund(
        self,
        *,
        gateway_reference: str,
        capture_reference: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
    ) -> RefundResult:
        ledger = _ledger()
        entry = ledger.objects.filter(
            kind=TransactionKind.REFUND, idempotency_key=idempotency_key
        ).first()
        if entry is None:
            entry = ledger.objects.create(
                kind=TransactionKind.REFUND,
                reference=f"sbx_ref_{secrets.token_hex(12)}",
                payment_reference=gateway_reference or capture_reference,
                amount_minor=amount_minor,
                currency=currency.upper(),
                status=TransactionStatus.SUCCEEDED,
                idempotency_key=idempotency_key,
                occurred_at=timezone.now(),
            )
        return RefundResult(
            outcome=RefundOutcome.SUCCEEDED,
            gateway_reference=entry.reference,
            amount_minor=entry.amount_minor,
        )

    def refunds(self, *, gateway_reference: str, capture_reference: str) -> list[RefundResult]:
        return []  # sandbox refunds succeed at once and send no events

    def transactions(self, *, start: datetime, end: datetime) -> list[GatewayTransaction]:
        entries = _ledger().objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        return [
            GatewayTransaction(
                kind=TransactionKind(entry.kind),
                gateway_reference=entry.payment_reference,
                capture_reference="",
                refund_reference=entry.reference if entry.kind == TransactionKind.REFUND else "",
                amount_minor=entry.amount_minor,
                currency=entry.currency,
                status=TransactionStatus(entry.status),
                occurred_at=entry.occurred_at,
            )
            for entry in entries.order_by("occurred_at", "id")
        ]

    def signed_event(self, gateway_reference: str, event_type: str) -> dict[str, Any]:
        """A webhook delivery as the sandbox "bank" would send it: body and signature header."""
        body = json.dumps(
            {
                "id": f"sbx_evt_{secrets.token_hex(12)}",
                "type": event_type,
                "payment": gateway_reference,
            },
            separators=(",", ":"),
        )
        return {
            "body": body,
            "headers": {
                SIGNATURE_HEADER: sign(self.webhook_secret, body.encode(), int(time.time()))
            },
        }

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent:
        header = next(
            (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()),
            "",
        )
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        try:
            timestamp = int(parts.get("t", ""))
        except ValueError as error:
            raise WebhookRejected("Missing or malformed signature header.") from error
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise WebhookRejected("The signature's timestamp is outside the tolerance.")
        expected = sign(self.webhook_secret, body, timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected.encode(), parts.get("v1", "").encode()):
            raise WebhookRejected("The signature does not match the body.")
        event = self.event_from_stored_body(body)
        settled = _SETTLING_EVENTS.get(event.event_type)
        if settled is not None and event.gateway_reference:
            # The "bank" settles a pending payment when it sends the outcome: its ledger says
            # so from then on, whatever the park does with the delivery.
            _ledger().objects.filter(
                kind=TransactionKind.PAYMENT,
                reference=event.gateway_reference,
                status=TransactionStatus.PENDING,
            ).update(status=settled, occurred_at=timezone.now())
        return event

    def event_from_stored_body(self, body: bytes) -> WebhookEvent:
        try:
            # UTF-8 only: json.loads would guess UTF-16 or UTF-32 from the bytes themselves.
            payload = json.loads(body.decode("utf-8"))
            event_id, event_type = payload["id"], payload["type"]
            reference = payload.get("payment", "")
            kind = {
                "payment.succeeded": EventKind.PAYMENT_SUCCEEDED,
                "payment.failed": EventKind.PAYMENT_FAILED,
            }.get(event_type)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise WebhookRejected("The body is not a sandbox event.") from error
        declined = kind == EventKind.PAYMENT_FAILED
        return WebhookEvent(
            event_id=event_id,
            event_type=event_type,
            gateway_reference=reference,
            kind=kind,
            failure_code="card_declined" if declined else "",
            failure_message="The sandbox declined the payment." if declined else "",
        )
