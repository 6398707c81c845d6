"""Stripe: one PaymentIntent per payment attempt, confirmed in the browser by Stripe.js.

The park creates the intent (amount in minor units, lower-case currency, automatic payment
methods, our reference in its metadata) with the attempt's idempotency key and hands the front
end its client secret and the publishable key (``next_action``); Stripe.js confirms it, and
Stripe tells the end by webhook (``payment_intent.succeeded`` / ``payment_failed``).
``resume_payment`` reads the intent when a webhook is late or lost. Refunds are asked on the
intent with their own idempotency key; ``refunds`` lists every refund Stripe holds for it.
``transactions`` lists the intents and refunds created in a time range (the SDK's list calls,
``created[gte]``/``created[lt]``, every page): the statement reconciliation compares with the
park's records (docs/adr/0031).

Calls go through the official SDK (``stripe.StripeClient``) over its httpx client, with the API
version pinned (``STRIPE_API_VERSION``) and no retries inside the SDK: one call is one HTTP
request of at most ``PAYMENTS_GATEWAY_TIMEOUT`` seconds, and the callers retry with the same
idempotency key. Tests fake Stripe at the httpx transport (``tests/integrations/stripe_fake.py``).
Webhooks are verified with the SDK's ``WebhookSignature`` (header ``Stripe-Signature:
t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``, five minutes of tolerance) and parsed
here, from the raw body, into the park's event kinds. docs/adr/0024.
"""

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from types import SimpleNamespace
from typing import Any

import httpx
import stripe
from django.conf import settings
from stripe.params import PaymentIntentListParams, RefundCreateParams, RefundListParams

from .base import (
    EventKind,
    GatewayError,
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

logger = logging.getLogger(__name__)

# The API version every request names (Stripe-Version) and the recorded shapes of the tests
# follow: the one stripe-python 16.1 is generated for. Change it only with the SDK and the
# fake's shapes (a test compares it with the SDK's own).
STRIPE_API_VERSION = "2026-10-28.endive"
SIGNATURE_HEADER = "Stripe-Signature"
TOLERANCE_SECONDS = 300
PAGE_SIZE = 100  # the largest page Stripe lists

# Statuses of a PaymentIntent in which the buyer or Stripe still has to act. Ours capture
# automatically, so requires_capture should not happen; it is not money taken either way.
PENDING_STATUSES = frozenset(
    {"processing", "requires_action", "requires_confirmation", "requires_capture"}
)
REFUND_OUTCOMES = {
    "succeeded": RefundOutcome.SUCCEEDED,
    "pending": RefundOutcome.PENDING,
    "requires_action": RefundOutcome.PENDING,
    "failed": RefundOutcome.FAILED,
    "canceled": RefundOutcome.FAILED,
}
# A statement's line of an intent or a refund, by its status.
INTENT_LINE_STATUSES = {
    "succeeded": TransactionStatus.SUCCEEDED,
    "canceled": TransactionStatus.FAILED,
    **dict.fromkeys(PENDING_STATUSES | {"requires_payment_method"}, TransactionStatus.PENDING),
}
REFUND_LINE_STATUSES = {
    "succeeded": TransactionStatus.SUCCEEDED,
    "pending": TransactionStatus.PENDING,
    "requires_action": TransactionStatus.PENDING,
    "failed": TransactionStatus.FAILED,
    "canceled": TransactionStatus.FAILED,
}
# Events about one refund (their object is the refund); with ``charge.refunded`` (its object is
# the charge) they change what was refunded of a payment: reconciled against ``refunds()``.
REFUND_EVENTS = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)


class _Unusable(ValueError):
    """An answer or an event body that is not shaped as Stripe's (pinned version) are."""


def _field(obj: Mapping[str, Any], key: str, kind: type, *, optional: bool = False) -> Any:
    """``obj[key]``, which must be a ``kind`` (or ``None`` when optional; a bool is no int)."""
    if not isinstance(obj, Mapping):
        raise _Unusable(f"expected an object holding {key!r}")
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Unusable(f"{key!r} is not a {kind.__name__}")
    return value


def _text(obj: Mapping[str, Any], key: str) -> str:
    """An optional string field: ``""`` when absent or null."""
    return _field(obj, key, str, optional=True) or ""


def _reference(obj: Mapping[str, Any], key: str) -> str:
    """The id an expandable field names: a string, an expanded object's id, or ``""``."""
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if isinstance(value, Mapping):
        return _field(value, "id", str)
    return _text(obj, key)


def _failure(intent: Mapping[str, Any]) -> tuple[str, str]:
    """Why an intent failed: the code and message of its last payment error."""
    error = intent.get("last_payment_error")
    if error is None:
        if intent.get("status") == "canceled":
            reason = _text(intent, "cancellation_reason")
            return "canceled", f"Stripe canceled the payment ({reason or 'no reason given'})."
        return "", ""
    code = _text(error, "code") or _text(error, "decline_code") or _text(error, "type")
    return code, _text(error, "message")


def _refund_result(refund: Mapping[str, Any]) -> RefundResult:
    status = _field(refund, "status", str)
    if status not in REFUND_OUTCOMES:
        raise _Unusable(f"unknown refund status {status!r}")
    outcome = REFUND_OUTCOMES[status]
    failure = ""
    if outcome == RefundOutcome.FAILED:
        failure = _text(refund, "failure_reason") or f"Stripe says the refund {status}."
    return RefundResult(
        outcome=outcome,
        gateway_reference=_field(refund, "id", str),
        amount_minor=_field(refund, "amount", int),
        failure_message=failure,
    )


def _created(obj: Mapping[str, Any]) -> datetime:
    return datetime.fromtimestamp(_field(obj, "created", int), tz=UTC)


def _intent_line(intent: Mapping[str, Any]) -> GatewayTransaction:
    status = _field(intent, "status", str)
    if status not in INTENT_LINE_STATUSES:
        raise _Unusable(f"unknown payment intent status {status!r}")
    # A declined card leaves the intent waiting for another one, with the error kept.
    failed = status == "requires_payment_method" and intent.get("last_payment_error")
    return GatewayTransaction(
        kind=TransactionKind.PAYMENT,
        gateway_reference=_field(intent, "id", str),
        capture_reference=_reference(intent, "latest_charge") if status == "succeeded" else "",
        refund_reference="",
        amount_minor=_field(intent, "amount", int),
        currency=_field(intent, "currency", str).upper(),
        status=TransactionStatus.FAILED if failed else INTENT_LINE_STATUSES[status],
        occurred_at=_created(intent),
    )


def _refund_line(refund: Mapping[str, Any]) -> GatewayTransaction:
    status = _field(refund, "status", str)
    if status not in REFUND_LINE_STATUSES:
        raise _Unusable(f"unknown refund status {status!r}")
    return GatewayTransaction(
        kind=TransactionKind.REFUND,
        gateway_reference=_reference(refund, "payment_intent"),
        capture_reference=_reference(refund, "charge"),
        refund_reference=_field(refund, "id", str),
        amount_minor=_field(refund, "amount", int),
        currency=_field(refund, "currency", str).upper(),
        status=REFUND_LINE_STATUSES[status],
        occurred_at=_created(refund),
    )


def _gateway_error(error: stripe.StripeError) -> GatewayError:
    """What a caller may show: the kind of failure, never the request or a key."""
    if isinstance(error, stripe.APIConnectionError):
        return GatewayError("Stripe could not be reached or did not answer in time.")
    if not isinstance(error.json_body, dict):  # a proxy's page, not Stripe's error: not echoed
        return GatewayError(f"Stripe answered HTTP {error.http_status} with no Stripe error.")
    return GatewayError(
        f"Stripe answered HTTP {error.http_status} ({type(error).__name__}): {error.user_message}"
    )


def _http_client(timeout: float, transport: httpx.BaseTransport | None) -> stripe.HTTPXClient:
    """The SDK's synchronous httpx client; over ``transport`` when one is given (tests)."""
    if transport is None:
        return stripe.HTTPXClient(timeout=timeout, allow_sync_methods=True)
    # The SDK builds its httpx clients from the module it is handed (``_lib``, its own test
    # seam): a Client bound to the transport keeps every request off the network. The async
    # client is built but never used (this gateway is synchronous).
    httpx_bound = SimpleNamespace(
        Client=partial(httpx.Client, transport=transport), AsyncClient=httpx.AsyncClient
    )
    return stripe.HTTPXClient(timeout=timeout, allow_sync_methods=True, _lib=httpx_bound)


class StripeGateway:
    name = "stripe"
    charges_on_start = False

    def __init__(
        self,
        *,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.client = stripe.StripeClient(
            secret_key,
            stripe_version=STRIPE_API_VERSION,
            max_network_retries=0,
            http_client=_http_client(timeout, transport),
        )

    @classmethod
    def from_settings(cls, *, transport: httpx.BaseTransport | None = None) -> "StripeGateway":
        return cls(
            secret_key=settings.STRIPE_SECRET_KEY,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            timeout=settings.PAYMENTS_GATEWAY_TIMEOUT,
            transport=transport,
        )

    def public_config(self) -> dict[str, Any]:
        return {"publishable_key": self.publishable_key}

    # Payments

    def start_payment(self, request: PaymentRequest) -> PaymentResult:
        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": request.amount_minor,
                    "currency": request.currency.lower(),
                    "automatic_payment_methods": {"enabled": True},
                    "metadata": {"reference": request.reference},
                    "description": str(request.description),
                },
                options={"idempotency_key": request.idempotency_key},
            )
        except (stripe.CardError, stripe.InvalidRequestError) as error:
            # Stripe refused to start this payment as asked (an amount below its minimum, a
            # currency it does not take): nothing was created, the buyer is told why.
            logger.warning("Stripe refused a payment intent: %s", error.code)
            return PaymentResult(
                outcome=PaymentOutcome.DECLINED,
                gateway_reference="",
                failure_code=error.code or "invalid_request",
                failure_message=error.user_message or "",
            )
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return self._payment_result(intent.to_dict())

    def resume_payment(self, *, gateway_reference: str, idempotency_key: str) -> PaymentResult:
        # Reading moves no money: Stripe captures by itself (automatic capture), so there is
        # nothing to do with the key here.
        if not gateway_reference:  # "/v1/payment_intents/" would be the list of them all
            raise GatewayError("There is no Stripe payment intent to resume.")
        try:
            intent = self.client.v1.payment_intents.retrieve(gateway_reference)
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return self._payment_result(intent.to_dict())

    def _payment_result(self, intent: Mapping[str, Any]) -> PaymentResult:
        try:
            reference = _field(intent, "id", str)
            status = _field(intent, "status", str)
            if status == "succeeded":
                return PaymentResult(
                    outcome=PaymentOutcome.SUCCEEDED,
                    gateway_reference=reference,
                    capture_reference=_reference(intent, "latest_charge"),
                )
            failed = status == "requires_payment_method" and intent.get("last_payment_error")
            if failed or status == "canceled":
                code, message = _failure(intent)
                return PaymentResult(
                    outcome=PaymentOutcome.DECLINED,
                    gateway_reference=reference,
                    failure_code=code,
                    failure_message=message,
                )
            if status == "requires_payment_method" or status in PENDING_STATUSES:
                return PaymentResult(
                    outcome=PaymentOutcome.PENDING,
                    gateway_reference=reference,
                    next_action={
                        "type": "stripe_confirm",
                        "client_secret": _field(intent, "client_secret", str),
                        "publishable_key": self.publishable_key,
                    },
                )
            raise _Unusable(f"unknown payment intent status {status!r}")
        except _Unusable as error:
            raise GatewayError(
                f"Stripe answered a payment intent that is not one: {error}."
            ) from error

    # Refunds

    def refund(
        self,
        *,
        gateway_reference: str,
        capture_reference: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
    ) -> RefundResult:
        # Asked on the intent (on the charge when only it is known). Stripe refunds in the
        # charge's currency; ``currency`` is ours and needs no sending.
        params: RefundCreateParams = {"amount": amount_minor}
        if gateway_reference:
            params["payment_intent"] = gateway_reference
        else:
            params["charge"] = capture_reference
        try:
            refund = self.client.v1.refunds.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        except (stripe.CardError, stripe.InvalidRequestError) as error:
            # Stripe answered and refused (more than is left, already refunded, not paid):
            # nothing was refunded.
            return RefundResult(
                outcome=RefundOutcome.FAILED,
                gateway_reference="",
                failure_message=error.user_message or error.code or "Stripe refused the refund.",
            )
        except stripe.StripeError as error:
            # No answer, a server error, a key Stripe does not take, an idempotency conflict:
            # whether money moved is unknown; the caller retries with the same key.
            raise _gateway_error(error) from error
        try:
            return _refund_result(refund.to_dict())
        except _Unusable as error:
            raise GatewayError(f"Stripe answered a refund that is not one: {error}.") from error

    def refunds(self, *, gateway_reference: str, capture_reference: str) -> list[RefundResult]:
        if not (gateway_reference or capture_reference):
            return []
        params: RefundListParams = {"limit": PAGE_SIZE}
        if gateway_reference:
            params["payment_intent"] = gateway_reference
        else:
            params["charge"] = capture_reference
        try:
            page = self.client.v1.refunds.list(params=params)
            return [_refund_result(refund.to_dict()) for refund in page.auto_paging_iter()]
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        except _Unusable as error:
            raise GatewayError(f"Stripe listed a refund that is not one: {error}.") from error

    # Statements

    def transactions(self, *, start: datetime, end: datetime) -> list[GatewayTransaction]:
        gte, lt = int(start.timestamp()), int(end.timestamp())
        intents: PaymentIntentListParams = {"created": {"gte": gte, "lt": lt}, "limit": PAGE_SIZE}
        refunds: RefundListParams = {"created": {"gte": gte, "lt": lt}, "limit": PAGE_SIZE}
        try:
            lines = [
                _intent_line(intent.to_dict())
                for intent in self.client.v1.payment_intents.list(params=intents).auto_paging_iter()
            ]
            lines += [
                _refund_line(refund.to_dict())
                for refund in self.client.v1.refunds.list(params=refunds).auto_paging_iter()
            ]
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        except _Unusable as error:
            raise GatewayError(f"Stripe listed something unusable: {error}.") from error
        return sorted(lines, key=lambda line: (line.occurred_at, line.reference))

    # Webhooks

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent:
        header = next(
            (value for key, value in headers.items() if key.lower() == SIGNATURE_HEADER.lower()),
            "",
        )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise WebhookRejected("The body is not UTF-8.") from error
        if not header.isascii():  # the SDK would compare it with a TypeError
            raise WebhookRejected("Malformed signature header.")
        try:
            stripe.WebhookSignature.verify_header(
                text, header, self.webhook_secret, tolerance=TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as error:
            raise WebhookRejected(
                f"The Stripe signature does not check out: {error.user_message}"
            ) from error
        # The SDK only looks back; a delivery signed in the future is as suspect as a stale one.
        signed_at = dict(part.split("=", 1) for part in header.split(",") if "=" in part)["t"]
        if int(signed_at) > time.time() + TOLERANCE_SECONDS:
            raise WebhookRejected("The Stripe signature's timestamp is in the future.")
        return self.event_from_stored_body(body)

    def event_from_stored_body(self, body: bytes) -> WebhookEvent:
        try:
            # UTF-8 only: json.loads would guess UTF-16 or UTF-32 from the bytes themselves.
            payload = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
            # A lone surrogate (an escape JSON allows) is no text the database could store.
            json.dumps(payload, ensure_ascii=False).encode("utf-8")
            if not isinstance(payload, dict) or payload.get("object") != "event":
                raise _Unusable("not an event")
            event_type = _field(payload, "type", str)
            obj = _field(_field(payload, "data", dict), "object", dict)
            fields = _event_fields(event_type, obj)
            return WebhookEvent(
                event_id=_field(payload, "id", str),
                event_type=event_type,
                created=_field(payload, "created", int),
                **fields,
            )
        except ValueError as error:  # _Unusable, JSONDecodeError, UnicodeError
            raise WebhookRejected(f"The body is not a Stripe event: {error}.") from error


def _no_constant(name: str) -> None:
    raise _Unusable(f"{name} is not a JSON number")


def _of(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    if obj.get("object") != kind:
        raise _Unusable(f"the event's object is not a {kind}")
    return obj


def _event_fields(event_type: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """What the park needs of one event's object, by the event's type."""
    if event_type == "payment_intent.succeeded":
        intent = _of(obj, "payment_intent")
        return {
            "kind": EventKind.PAYMENT_SUCCEEDED,
            "gateway_reference": _field(intent, "id", str),
            "capture_reference": _reference(intent, "latest_charge"),
        }
    if event_type == "payment_intent.payment_failed":
        intent = _of(obj, "payment_intent")
        code, message = _failure(intent)
        return {
            "kind": EventKind.PAYMENT_FAILED,
            "gateway_reference": _field(intent, "id", str),
            "failure_code": code,
            "failure_message": message,
        }
    if event_type == "charge.refunded":
        charge = _of(obj, "charge")
        return {
            "kind": EventKind.REFUNDS_CHANGED,
            "gateway_reference": _reference(charge, "payment_intent"),
            "capture_reference": _field(charge, "id", str),
        }
    if event_type in REFUND_EVENTS:
        refund = _of(obj, "refund")
        return {
            "kind": EventKind.REFUNDS_CHANGED,
            "gateway_reference": _reference(refund, "payment_intent"),
            "capture_reference": _reference(refund, "charge"),
        }
    if event_type == "charge.dispute.created":
        dispute = _of(obj, "dispute")
        return {
            "kind": EventKind.DISPUTE_OPENED,
            "gateway_reference": _reference(dispute, "payment_intent"),
            "capture_reference": _reference(dispute, "charge"),
            "amount_minor": _field(dispute, "amount", int),
        }
    # Not acted on; kept with the intent it concerns when it names one, for the back office.
    try:
        if obj.get("object") == "payment_intent":
            reference = _field(obj, "id", str)
        else:
            reference = _reference(obj, "payment_intent")
    except _Unusable:
        reference = ""
    return {"kind": None, "gateway_reference": reference}
