"""The gateway protocol and the plain values that cross it.

A gateway is called outside every database transaction (docs/adr/0026): the services record
their intent, commit, call the gateway, and record its answer in a second short transaction.
Every call that moves money carries an idempotency key that is stable across retries of the
same intent, so a retry after a timeout never charges or refunds twice.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class PaymentOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"  # the buyer or the gateway still has to act; a webhook or pay/ settles it
    DECLINED = "declined"


class RefundOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"  # accepted; the gateway tells the end through a webhook
    FAILED = "failed"


class EventKind(StrEnum):
    """What a webhook delivery means for the park, whatever the gateway calls it."""

    PAYMENT_SUCCEEDED = "payment_succeeded"  # money taken (Stripe intent succeeded, capture done)
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_APPROVED = "payment_approved"  # the buyer approved; the park must capture (PayPal)
    REFUNDS_CHANGED = "refunds_changed"  # a refund was made, succeeded or failed: reconcile
    DISPUTE_OPENED = "dispute_opened"  # a chargeback: the order is marked, finance is told


class TransactionKind(StrEnum):
    """What a line of a gateway's statement is."""

    PAYMENT = "payment"  # money taken (a Stripe PaymentIntent, a PayPal capture)
    REFUND = "refund"  # money given back


class TransactionStatus(StrEnum):
    """Where a statement's line stands, whatever the gateway calls it."""

    SUCCEEDED = "succeeded"  # the money moved
    PENDING = "pending"  # not yet (the buyer, the bank or the gateway still has to act)
    FAILED = "failed"  # it did not move (declined, canceled, denied, reversed)


class GatewayError(Exception):
    """The gateway could not be reached or answered something unusable.

    For a call that moves money the outcome is then unknown: the caller retries with the same
    idempotency key, never with a new one.
    """


class WebhookRejected(Exception):
    """A webhook whose signature, timestamp or body does not check out."""


@dataclass(frozen=True)
class PaymentRequest:
    amount_minor: int
    currency: str
    reference: str  # our payment's public reference, shown in the gateway's dashboard
    description: str
    idempotency_key: str  # one per payment attempt: "payment-<order code>-<payment id>"
    options: dict[str, Any] = field(default_factory=dict)
    return_url: str = ""  # where the gateway sends the buyer back (PayPal approval)
    cancel_url: str = ""


@dataclass(frozen=True)
class PaymentResult:
    outcome: PaymentOutcome
    gateway_reference: str  # Stripe PaymentIntent id, PayPal order id, sandbox reference
    capture_reference: str = ""  # Stripe charge id, PayPal capture id: known once money moved
    failure_code: str = ""
    failure_message: str = ""
    # What the front end must do for a pending payment, e.g.
    # {"type": "stripe_confirm", "client_secret": "...", "publishable_key": "pk_..."},
    # {"type": "redirect", "url": "https://www.sandbox.paypal.com/checkoutnow?token=..."}.
    next_action: dict[str, Any] | None = None


@dataclass(frozen=True)
class RefundResult:
    outcome: RefundOutcome
    gateway_reference: str  # the gateway's refund id ("re_...", PayPal refund id)
    amount_minor: int | None = None  # as the gateway states it (listings); None when not told
    failure_message: str = ""


@dataclass(frozen=True)
class GatewayTransaction:
    """One line of a gateway's statement: a payment or a refund as the gateway saw it.

    References are the park's own names for the movement: ``gateway_reference`` is what the
    park keeps in its payment's ``gateway_reference`` (Stripe PaymentIntent id, sandbox
    reference; empty when the gateway's report does not name it, as PayPal's names only the
    capture), ``capture_reference`` the money movement (Stripe charge, PayPal capture) and
    ``refund_reference`` a refund's own id (empty for payments). ``occurred_at`` is aware.
    """

    kind: TransactionKind
    gateway_reference: str
    capture_reference: str
    refund_reference: str
    amount_minor: int  # positive, refunds too
    currency: str  # ISO 4217, upper case
    status: TransactionStatus
    occurred_at: datetime

    @property
    def reference(self) -> str:
        """The id that names this line within its statement."""
        if self.kind == TransactionKind.REFUND:
            return self.refund_reference
        return self.gateway_reference or self.capture_reference


# Longest ids a gateway's event may carry (Stripe's and PayPal's are far shorter).
MAX_EVENT_ID_LENGTH = 120
MAX_EVENT_TYPE_LENGTH = 80
MAX_REFERENCE_LENGTH = 120


@dataclass(frozen=True)
class WebhookEvent:
    """One parsed delivery. Its ids are checked on construction: strings of printable
    characters within their lengths, never cut (two long ids must not become one event).

    The payment it concerns is found by ``gateway_reference`` or, when the gateway only names
    the money movement (a PayPal refund names its capture), by ``capture_reference``.
    ``kind`` is ``None`` for deliveries the park does not act on (stored, marked ignored).
    """

    event_id: str
    event_type: str
    gateway_reference: str
    kind: EventKind | None
    capture_reference: str = ""
    failure_code: str = ""
    failure_message: str = ""
    amount_minor: int | None = None  # a dispute's amount
    created: int | None = None  # the gateway's own timestamp (unix seconds), when it gives one

    def __post_init__(self) -> None:
        for name, value, longest, may_be_empty in (
            ("event id", self.event_id, MAX_EVENT_ID_LENGTH, False),
            ("event type", self.event_type, MAX_EVENT_TYPE_LENGTH, False),
            ("payment reference", self.gateway_reference, MAX_REFERENCE_LENGTH, True),
            ("capture reference", self.capture_reference, MAX_REFERENCE_LENGTH, True),
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
    # Whether ``start_payment`` may take the money by itself. Stripe and PayPal only create an
    # intent or an order that the buyer confirms or approves afterwards (False); the sandbox
    # approves at once (True). An attempt whose start was interrupted is asked again under its
    # key only when its start could have charged (docs/adr/0046).
    charges_on_start: bool

    def public_config(self) -> dict[str, Any]:
        """What a front end needs to pay with this gateway (public keys only, never secrets),
        for ``GET /api/v1/payments/gateways/``."""
        ...

    def start_payment(self, request: PaymentRequest) -> PaymentResult:
        """Start one payment attempt (a Stripe PaymentIntent, a PayPal order)."""
        ...

    def resume_payment(self, *, gateway_reference: str, idempotency_key: str) -> PaymentResult:
        """Where a started payment stands now, capturing it when the buyer approved and the
        gateway waits for the park to capture (PayPal). Called when the front end calls pay/
        again and by the ``payment_approved`` webhook; recovers a lost webhook."""
        ...

    def refund(
        self,
        *,
        gateway_reference: str,
        capture_reference: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
    ) -> RefundResult:
        """Give back ``amount_minor`` of a settled payment (part or all of it)."""
        ...

    def refunds(self, *, gateway_reference: str, capture_reference: str) -> list[RefundResult]:
        """Every refund the gateway knows of for this payment, with amounts and states: the
        truth a ``refunds_changed`` event is reconciled against (any order of events)."""
        ...

    def transactions(self, *, start: datetime, end: datetime) -> list[GatewayTransaction]:
        """The payments and refunds the gateway made from ``start`` (included) to ``end``
        (excluded), both aware: its statement of that time, read-only (docs/adr/0031).
        Raises ``GatewayError`` when it cannot be had."""
        ...

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent:
        """Verify and parse one delivery; raises ``WebhookRejected``."""
        ...

    def event_from_stored_body(self, body: bytes) -> WebhookEvent:
        """Parse a delivery verified earlier and stored raw (replays); no signature check."""
        ...
