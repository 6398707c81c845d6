"""The gateway protocol and the plain values that cross it."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class PaymentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"  # the gateway confirms later, through a webhook
    DECLINED = "declined"


class GatewayError(Exception):
    """The gateway could not be reached or answered something unusable."""


class WebhookRejected(Exception):
    """A webhook whose signature, timestamp or body does not check out."""


@dataclass(frozen=True)
class PaymentRequest:
    amount_minor: int
    currency: str
    reference: str  # our payment's public reference, shown in the gateway's dashboard
    description: str
    idempotency_key: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentResult:
    outcome: PaymentOutcome
    gateway_reference: str
    failure_code: str = ""
    failure_message: str = ""
    # What the client must do next for a pending payment (redirect, 3-D Secure, sandbox hook).
    next_action: dict[str, Any] | None = None


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    gateway_reference: str
    failure_message: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    event_type: str
    gateway_reference: str
    outcome: PaymentOutcome | None  # None for events that do not settle a payment
    failure_code: str = ""
    failure_message: str = ""


class PaymentGateway(Protocol):
    name: str

    def start_payment(self, request: PaymentRequest) -> PaymentResult: ...

    def refund(
        self, *, gateway_reference: str, amount_minor: int, currency: str, idempotency_key: str
    ) -> RefundResult: ...

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent:
        """Verify and parse one delivery; raises ``WebhookRejected``."""
        ...

    def event_from_stored_body(self, body: bytes) -> WebhookEvent:
        """Parse a delivery verified earlier and stored raw (replays); no signature check."""
        ...
