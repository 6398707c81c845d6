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


# Longest ids a gateway's event may carry (Stripe's and PayPal's are far shorter).
MAX_EVENT_ID_LENGTH = 120
MAX_EVENT_TYPE_LENGTH = 80
MAX_REFERENCE_LENGTH = 120


@dataclass(frozen=True)
class WebhookEvent:
    """One parsed delivery. Its ids are checked on construction: strings of printable
    characters within their lengths, never cut (two long ids must not become one event)."""

    event_id: str
    event_type: str
    gateway_reference: str
    outcome: PaymentOutcome | None  # None for events that do not settle a payment
    failure_code: str = ""
    failure_message: str = ""

    def __post_init__(self) -> None:
        for name, value, longest, may_be_empty in (
            ("event id", self.event_id, MAX_EVENT_ID_LENGTH, False),
            ("event type", self.event_type, MAX_EVENT_TYPE_LENGTH, False),
            ("payment reference", self.gateway_reference, MAX_REFERENCE_LENGTH, True),
        ):
            if (
                not isinstance(value, str)
                or len(value) > longest
                or (not value and not may_be_empty)
                or not value.isprintable()
            ):
                raise WebhookRejected(
                    f"The {name} must be a string of up to {longest} printable characters."
                )


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
