"""The sandbox gateway: the embedded default, no network.

It approves by default. ``options["outcome"]`` makes it decline (``"decline"``) or answer
"pending" and wait for a webhook (``"later"``); the pending answer's ``next_action`` carries the
signed webhook bodies that settle it, which a front end or a tester posts to
``/api/v1/payments/webhooks/sandbox/`` — the same path Stripe's and PayPal's webhooks take.

Webhooks are signed like Stripe's: header ``Sandbox-Signature: t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<raw body>">`` with ``PAYMENTS_SANDBOX_WEBHOOK_SECRET``, and refused when older than five
minutes.
"""

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from .base import (
    EventKind,
    PaymentOutcome,
    PaymentRequest,
    PaymentResult,
    RefundOutcome,
    RefundResult,
    WebhookEvent,
    WebhookRejected,
)

SIGNATURE_HEADER = "Sandbox-Signature"
TOLERANCE_SECONDS = 300
OUTCOMES = ("approve", "decline", "later")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class SandboxGateway:
    name = "sandbox"

    def __init__(self, *, webhook_secret: str) -> None:
        self.webhook_secret = webhook_secret

    def public_config(self) -> dict[str, Any]:
        return {"test_options": list(OUTCOMES)}

    def start_payment(self, request: PaymentRequest) -> PaymentResult:
        outcome = request.options.get("outcome", "approve")
        reference = f"sbx_pay_{secrets.token_hex(12)}"
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
        # The sandbox "bank" keeps no state: a pending sandbox payment is settled only by
        # posting one of the signed webhooks its start answered.
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
        return RefundResult(
            outcome=RefundOutcome.SUCCEEDED,
            gateway_reference=f"sbx_ref_{secrets.token_hex(12)}",
            amount_minor=amount_minor,
        )

    def refunds(self, *, gateway_reference: str, capture_reference: str) -> list[RefundResult]:
        return []  # sandbox refunds succeed at once and send no events

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
        return self.event_from_stored_body(body)

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
