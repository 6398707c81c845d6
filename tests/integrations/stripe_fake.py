"""A fake Stripe at the HTTP transport boundary, for tests of the Stripe gateway and above it.

The gateway talks to Stripe through the official SDK over httpx; this fake is an
``httpx.MockTransport`` behind that SDK, so everything above the transport (the SDK's request
encoding, headers, error classes, pagination; the gateway; the services and views) runs as in
production, and no request can reach the network. It keeps a small in-memory Stripe: payment
intents, charges, refunds and disputes, answered with the shapes Stripe's API reference records
for the pinned API version (``STRIPE_API_VERSION``), including its errors (``invalid_request_error``
with ``code``, ``card_error``, ``idempotency_error``, 401, 5xx) and its idempotency: a POST's
``Idempotency-Key`` with the same parameters gets the first answer again (``Idempotent-Replayed:
true``), with other parameters a 400 ``idempotency_error``.

Switching it on in a test::

    def test_paying_by_card(fake_stripe, api_client):          # the fixture below
        ...                                                    # POST pay/ with method "stripe"
        intent_id = fake_stripe.last_intent_id                 # the intent the gateway created
        delivery = fake_stripe.confirm(intent_id)              # the buyer pays in Stripe.js
        delivery.post(api_client)                              # Stripe's webhook arrives

``fake_stripe`` lists "stripe" in ``PAYMENT_GATEWAYS``, sets the three Stripe settings to this
fake's keys, makes ``StripeGateway.from_settings`` send through the fake's transport, and resets
the gateway registry before and after. A conftest that wants its own fixture uses
``stripe_switched_on(settings, monkeypatch)``; a test of the gateway alone builds one with
``StripeGateway(..., transport=fake.transport)``. After the test the fixture fails it if any
request went somewhere this fake does not answer (another host, another path, another API
version): such a request is refused with an ``AssertionError``, which the SDK turns into a
connection error, so it is also listed in ``fake.unexpected``.

Acting as the buyer or as Stripe (each changes the stored objects, records the events Stripe
would send in ``fake.events``, and returns the main one as a signed ``Delivery``):

- ``confirm(intent_id)``: the payment succeeds (a charge ``ch_...``; ``payment_intent.succeeded``).
- ``fail(intent_id, decline_code="generic_decline")``: the card is declined
  (``payment_intent.payment_failed``, ``last_payment_error.code == "card_declined"``).
- ``set_status(intent_id, status)``: processing, requires_action... (``requires_action`` etc.).
- ``cancel(intent_id)``: ``payment_intent.canceled``.
- ``refund_in_dashboard(intent_id, amount)``: a refund made outside the park (``refund.created``).
- ``settle_refund(refund_id, "succeeded" | "failed" | "canceled")``: ``refund.updated``.
- ``dispute(intent_id)``: a chargeback (``charge.dispute.created``).
- ``deliver(event)`` signs any event; ``event(type, obj)`` builds one for any object.

Listing: ``GET /v1/payment_intents`` and ``GET /v1/refunds`` answer from what is stored, newest
first, with ``created[gte|gt|lt|lte]``, ``limit`` and ``starting_after`` (the SDK's auto-paging);
objects are ``created`` at ``clock()``, which a test may set to place them in a day.

Breaking things: ``fail_next(status=500)`` answers the next request with that error,
``fail_next(timeout=True)`` times it out, ``fail_next(timeout=True, after=True)`` lets Stripe do
the work and loses the answer (a retry with the same key gets it back); ``answer_next(status,
json)`` answers the next request with any body. New refunds are ``succeeded`` at once, or what
``refunds_start_as`` says ("pending", "requires_action"). Every request the SDK sent is in
``fake.calls`` (method, path, parameters as sent, lower-case headers).
"""

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import parse_qsl

import httpx
import pytest

from apps.integrations.payments import registry
from apps.integrations.payments.stripe import SIGNATURE_HEADER, STRIPE_API_VERSION, StripeGateway

API_HOST = "api.stripe.com"
SECRET_KEY = "sk_test_FakeParqueMarino0000000000"
PUBLISHABLE_KEY = "pk_test_FakeParqueMarino0000000000"
WEBHOOK_SECRET = "whsec_FakeParqueMarino00000000000000"
WEBHOOK_PATH = "/api/v1/payments/webhooks/stripe/"
# Stripe's smallest charge per currency, in minor units (others: 50).
MINIMUM_AMOUNTS = {"gbp": 30, "jpy": 50, "dkk": 250, "sek": 300, "nok": 300, "mxn": 1000}
INTENT_STATUSES = (
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
)
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
}


def sign(body: bytes, *, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header: ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
    keyed with the whole endpoint secret (``whsec_...``), as Stripe signs its deliveries."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery as Stripe sends it: the raw body and its signature header."""

    event: dict[str, Any]
    body: bytes
    headers: dict[str, str]

    def post(self, client: Any, path: str = WEBHOOK_PATH) -> Any:
        """POST it with a Django/DRF test client to the park's Stripe webhook."""
        return client.generic(
            "POST", path, self.body, content_type="application/json", headers=self.headers
        )


@dataclass(frozen=True)
class Call:
    """One request the SDK sent: ``params`` are the form fields or query parameters exactly as
    encoded (``"metadata[reference]"``), ``headers`` have lower-case names, ``timeout`` is
    httpx's (``{"connect": ..., "read": ..., "write": ..., "pool": ...}``)."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: str
    timeout: dict[str, float] | None = None


@dataclass
class _Failure:
    status: int = 500
    timeout: bool = False
    after: bool = False
    json: dict[str, Any] | None = None
    content: bytes | None = None


class _Refusal(Exception):
    """Stripe answers an error; ``saved`` when Stripe keeps it for the idempotency key (the
    endpoint began executing), not for parameters it refused before."""

    def __init__(self, status: int, error: dict[str, Any], *, saved: bool = False) -> None:
        super().__init__(error.get("message"))
        self.status, self.error, self.saved = status, error, saved


def _invalid(message: str, *, code: str = "", param: str = "", saved: bool = False) -> _Refusal:
    error: dict[str, Any] = {"message": message, "type": "invalid_request_error"}
    if code:
        error["code"] = code
        error["doc_url"] = f"https://docs.stripe.com/error-codes/{code.replace('_', '-')}"
    if param:
        error["param"] = param
    return _Refusal(400, error, saved=saved)


ERRORS_BY_STATUS = {
    401: {
        "message": "Invalid API Key provided: sk_test_****0000",
        "type": "invalid_request_error",
    },
    409: {
        "code": "idempotency_key_in_use",
        "message": "There is currently another in-progress request using this idempotent key "
        "(that probably means you submitted twice, and the other request is still going "
        "through). Please try again later.",
        "type": "idempotency_error",
    },
    429: {
        "code": "rate_limit",
        "message": "Request rate limit exceeded. Learn more about rate limits here "
        "https://docs.stripe.com/rate-limits.",
        "type": "invalid_request_error",
    },
}
SERVER_ERROR = {"message": "An unknown error occurred", "type": "api_error"}


class FakeStripe:
    """An in-memory Stripe answering the SDK through ``transport`` (see the module's doc)."""

    def __init__(
        self,
        *,
        secret_key: str = SECRET_KEY,
        publishable_key: str = PUBLISHABLE_KEY,
        webhook_secret: str = WEBHOOK_SECRET,
        clock: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.clock = clock
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}  # in creation order
        self.disputes: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.calls: list[Call] = []
        self.unexpected: list[str] = []
        self.refunds_start_as = "succeeded"
        self._failures: list[_Failure] = []
        self._saved: dict[str, tuple[tuple[str, str, dict[str, str]], int, dict[str, Any]]] = {}
        self._counters: dict[str, int] = {}
        self.transport = httpx.MockTransport(self._handle)

    # What a test reads

    @property
    def last_intent_id(self) -> str:
        """The payment intent created last (by the gateway or ``create_intent``)."""
        assert self.intents, "No payment intent was created."
        return list(self.intents)[-1]

    def events_of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["type"] == event_type]

    def assert_no_unexpected_requests(self) -> None:
        assert not self.unexpected, f"Requests the fake Stripe does not answer: {self.unexpected}"

    # Breaking things

    def fail_next(self, *, status: int = 500, timeout: bool = False, after: bool = False) -> None:
        """The next request fails: an HTTP error ``status`` (Stripe's error body for it), or a
        read timeout; ``after=True`` (timeouts only) does the work first and loses the answer."""
        assert after is False or timeout, "Only a timeout can lose an answer after the work."
        self._failures.append(_Failure(status=status, timeout=timeout, after=after))

    def answer_next(
        self, status: int, json: dict[str, Any] | None = None, *, content: bytes = b""
    ) -> None:
        """The next request is answered ``status`` with ``json`` (or raw ``content``: a proxy's
        HTML page), whatever it asked."""
        self._failures.append(_Failure(status=status, json=json, content=content))

    # The buyer and Stripe

    def create_intent(
        self, *, amount: int = 2900, currency: str = "eur", reference: str = "PM-TEST-1"
    ) -> dict[str, Any]:
        """A payment intent as the gateway would have created it (without a request)."""
        params = {
            "amount": str(amount),
            "currency": currency,
            "automatic_payment_methods[enabled]": "true",
            "metadata[reference]": reference,
            "description": f"Parque Marino order {reference}",
        }
        call = Call(method="POST", path="/v1/payment_intents", params=params, headers={}, body="")
        return self._intent_create(call, None)[1]

    def confirm(self, intent_id: str) -> Delivery:
        """The buyer's card is charged: the intent succeeds with a new charge."""
        intent = self.intents[intent_id]
        charge = self._new_charge(intent, succeeded=True)
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            payment_method=charge["payment_method"],
            last_payment_error=None,
            next_action=None,
        )
        self.event("charge.succeeded", charge)
        return self.deliver(self.event("payment_intent.succeeded", intent))

    def fail(self, intent_id: str, *, decline_code: str = "generic_decline") -> Delivery:
        """The buyer's card is declined: the intent waits for another payment method."""
        intent = self.intents[intent_id]
        charge = self._new_charge(intent, succeeded=False, decline_code=decline_code)
        intent.update(
            status="requires_payment_method",
            latest_charge=charge["id"],
            payment_method=None,
            last_payment_error={
                "advice_code": "try_again_later",
                "charge": charge["id"],
                "code": "card_declined",
                "decline_code": decline_code,
                "doc_url": "https://docs.stripe.com/error-codes/card-declined",
                "message": DECLINE_MESSAGES.get(decline_code, "Your card was declined."),
                "network_decline_code": "05",
                "payment_method": _payment_method_json(charge["payment_method"], self.clock()),
                "type": "card_error",
            },
        )
        self.event("charge.failed", charge)
        return self.deliver(self.event("payment_intent.payment_failed", intent))

    def set_status(self, intent_id: str, status: str) -> Delivery:
        """Any other state (``processing``, ``requires_action``...): the event
        ``payment_intent.<status>`` where Stripe has one, else ``payment_intent.updated``."""
        assert status in INTENT_STATUSES, status
        intent = self.intents[intent_id]
        previous = {"status": intent["status"]}
        intent["status"] = status
        if status == "requires_action":
            intent["next_action"] = {
                "type": "use_stripe_sdk",
                "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""},
            }
        named = {"processing", "requires_action", "canceled", "succeeded"}
        event_type = f"payment_intent.{status}" if status in named else "payment_intent.updated"
        return self.deliver(self.event(event_type, intent, previous_attributes=previous))

    def cancel(self, intent_id: str, *, reason: str = "requested_by_customer") -> Delivery:
        intent = self.intents[intent_id]
        intent.update(canceled_at=self.clock(), cancellation_reason=reason, next_action=None)
        return self.set_status(intent_id, "canceled")

    def refund_in_dashboard(self, intent_id: str, amount: int) -> Delivery:
        """A refund made in Stripe's dashboard (no request of the park): ``refund.created``."""
        charge = self.charges[self.intents[intent_id]["latest_charge"]]
        assert charge["status"] == "succeeded", "Only a paid intent can be refunded."
        self._new_refund(charge, amount, request=None)
        return self.deliver(self.events_of_type("refund.created")[-1])

    def settle_refund(
        self, refund_id: str, status: str, *, failure_reason: str = "expired_or_canceled_card"
    ) -> Delivery:
        """A pending refund ends: ``succeeded``, or ``failed``/``canceled`` (the money is back on
        the charge). Sends ``refund.updated`` (and ``refund.failed`` when it failed)."""
        assert status in ("succeeded", "failed", "canceled"), status
        refund = self.refunds[refund_id]
        previous = {"status": refund["status"]}
        refund["status"] = status
        refund.pop("pending_reason", None)
        if status != "succeeded":
            refund["failure_reason"] = failure_reason
            refund["failure_balance_transaction"] = self._new_id("txn")
            charge = self.charges[refund["charge"]]
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = False
        delivery = self.deliver(self.event("refund.updated", refund, previous_attributes=previous))
        if status == "failed":
            self.event("refund.failed", refund)
        return delivery

    def dispute(
        self, intent_id: str, *, amount: int | None = None, reason: str = "fraudulent"
    ) -> Delivery:
        """The buyer's bank opens a chargeback on the intent's charge."""
        intent = self.intents[intent_id]
        charge = self.charges[intent["latest_charge"]]
        dispute = _dispute_json(
            self._new_id("du"),
            charge=charge,
            amount=charge["amount"] if amount is None else amount,
            reason=reason,
            created=self.clock(),
        )
        self.disputes[dispute["id"]] = dispute
        charge["disputed"] = True
        return self.deliver(self.event("charge.dispute.created", dispute))

    def event(
        self,
        event_type: str,
        obj: dict[str, Any],
        *,
        previous_attributes: dict[str, Any] | None = None,
        request: tuple[str, str | None] | None = None,
    ) -> dict[str, Any]:
        """An event of ``event_type`` about (a snapshot of) ``obj``, recorded in ``events``.
        ``request`` is the (request id, idempotency key) that caused it, if one did."""
        data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        request_id, key = request or (None, None)
        event = {
            "id": self._new_id("evt"),
            "object": "event",
            "api_version": STRIPE_API_VERSION,
            "created": self.clock(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": request_id, "idempotency_key": key},
            "type": event_type,
        }
        self.events.append(event)
        return event

    def deliver(
        self, event: dict[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> Delivery:
        """``event`` as Stripe posts it: pretty-printed JSON, signed now (or at ``timestamp``)
        with the endpoint secret (or ``secret``)."""
        body = json.dumps(event, indent=2, ensure_ascii=False).encode()
        signed_at = int(time.time()) if timestamp is None else timestamp
        header = sign(body, secret=secret or self.webhook_secret, timestamp=signed_at)
        return Delivery(event=event, body=body, headers={SIGNATURE_HEADER: header})

    # The HTTP side

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        params = dict(parse_qsl(body if request.method == "POST" else request.url.query.decode()))
        call = Call(
            method=request.method,
            path=request.url.path,
            params=params,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            timeout=request.extensions.get("timeout"),
        )
        self.calls.append(call)
        route = self._route(call)
        if request.url.scheme != "https" or request.url.host != API_HOST or route is None:
            return self._refuse(f"{request.method} {request.url}")
        if call.headers.get("stripe-version") != STRIPE_API_VERSION:
            return self._refuse(
                f"{request.method} {request.url} as {call.headers.get('stripe-version')}"
            )
        request_id = self._new_id("req")
        if call.headers.get("authorization") != f"Bearer {self.secret_key}":
            return self._answer(401, {"error": ERRORS_BY_STATUS[401]}, request_id)
        failure = self._failures.pop(0) if self._failures else None
        if failure is not None and not failure.after:
            if failure.timeout:
                raise httpx.ReadTimeout("The fake Stripe timed out, as asked.", request=request)
            if failure.content:
                return httpx.Response(failure.status, content=failure.content)
            error = ERRORS_BY_STATUS.get(failure.status, SERVER_ERROR)
            return self._answer(failure.status, failure.json or {"error": error}, request_id)

        key = call.headers.get("idempotency-key") if call.method == "POST" else None
        if key is not None and key in self._saved:
            first, status, answer = self._saved[key]
            if first != (call.method, call.path, call.params):
                return self._answer(400, {"error": _idempotency_error(key)}, request_id)
            return self._answer(status, answer, request_id, replayed=True)
        try:
            status, answer = route(call, (request_id, key))
            saved = True
        except _Refusal as refusal:
            status, answer, saved = refusal.status, {"error": refusal.error}, refusal.saved
        if key is not None and saved:
            self._saved[key] = ((call.method, call.path, call.params), status, answer)
        if failure is not None:  # after the work: the answer is lost on the way back
            raise httpx.ReadTimeout("The fake Stripe's answer was lost, as asked.", request=request)
        return self._answer(status, answer, request_id)

    def _route(self, call: Call) -> Callable[..., tuple[int, dict[str, Any]]] | None:
        parts = call.path.strip("/").split("/")
        if parts == ["v1", "payment_intents"] and call.method == "POST":
            return self._intent_create
        if parts == ["v1", "payment_intents"] and call.method == "GET":
            return self._intent_list
        if parts[:2] == ["v1", "payment_intents"] and len(parts) == 3 and call.method == "GET":
            return self._intent_retrieve
        if parts == ["v1", "refunds"] and call.method == "POST":
            return self._refund_create
        if parts == ["v1", "refunds"] and call.method == "GET":
            return self._refund_list
        return None

    def _refuse(self, what: str) -> NoReturn:
        self.unexpected.append(what)
        raise AssertionError(f"The fake Stripe does not answer {what}.")

    def _answer(
        self, status: int, answer: dict[str, Any], request_id: str, *, replayed: bool = False
    ) -> httpx.Response:
        headers = {"Request-Id": request_id, "Stripe-Version": STRIPE_API_VERSION}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return httpx.Response(status, json=answer, headers=headers)

    # Endpoints

    def _intent_create(
        self, call: Call, request: tuple[str, str | None] | None
    ) -> tuple[int, dict[str, Any]]:
        params = call.params
        _only(params, {"amount", "currency", "automatic_payment_methods[enabled]", "description"})
        amount = _positive_int(params, "amount")
        currency = params.get("currency", "")
        if not (len(currency) == 3 and currency.isalpha() and currency.islower()):
            raise _invalid(
                f"Invalid currency: {currency}.", code="parameter_invalid_string", param="currency"
            )
        minimum = MINIMUM_AMOUNTS.get(currency, 50)
        if amount < minimum:
            raise _invalid(
                f"Amount must be at least {minimum} {currency} (in the smallest currency unit).",
                code="amount_too_small",
                param="amount",
                saved=True,
            )
        intent_id = self._new_id("pi")
        intent = _payment_intent_json(
            intent_id,
            amount=amount,
            currency=currency,
            description=params.get("description"),
            metadata=_metadata(params),
            automatic=params.get("automatic_payment_methods[enabled]") == "true",
            created=self.clock(),
            secret=f"{intent_id}_secret_{self._new_id('s')[2:]}",
        )
        self.intents[intent_id] = intent
        self.event("payment_intent.created", intent, request=request)
        return 200, intent

    def _intent_retrieve(
        self, call: Call, request: tuple[str, str | None]
    ) -> tuple[int, dict[str, Any]]:
        intent_id = call.path.rstrip("/").rsplit("/", 1)[1]
        if intent_id not in self.intents:
            error = _invalid(
                f"No such payment_intent: '{intent_id}'", code="resource_missing", param="intent"
            )
            raise _Refusal(404, error.error)
        return 200, self.intents[intent_id]

    def _refund_create(
        self, call: Call, request: tuple[str, str | None]
    ) -> tuple[int, dict[str, Any]]:
        params = call.params
        _only(params, {"amount", "payment_intent", "charge", "reason"})
        charge = self._charge_named(params)
        intent_id = charge["payment_intent"] if charge else params.get("payment_intent", "")
        if charge is None or charge["status"] != "succeeded":
            raise _invalid(
                f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                saved=True,
            )
        left = charge["amount"] - charge["amount_refunded"]
        amount = _positive_int(params, "amount") if "amount" in params else left
        if left == 0:
            raise _invalid(
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
                saved=True,
            )
        if amount > left:
            raise _invalid(
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left}).",
                code="amount_too_large",
                param="amount",
                saved=True,
            )
        return 200, self._new_refund(charge, amount, request=request, reason=params.get("reason"))

    def _intent_list(
        self, call: Call, request: tuple[str, str | None]
    ) -> tuple[int, dict[str, Any]]:
        _only(call.params, {"limit", "starting_after", "ending_before", *CREATED_FILTERS})
        return 200, _page(call.params, list(self.intents.values()), "/v1/payment_intents")

    def _refund_list(
        self, call: Call, request: tuple[str, str | None]
    ) -> tuple[int, dict[str, Any]]:
        params = call.params
        _only(
            params,
            {"limit", "payment_intent", "charge", "starting_after", "ending_before"}
            | CREATED_FILTERS,
        )
        refunds = [
            refund
            for refund in self.refunds.values()
            if params.get("payment_intent", refund["payment_intent"]) == refund["payment_intent"]
            and params.get("charge", refund["charge"]) == refund["charge"]
        ]
        return 200, _page(params, refunds, "/v1/refunds")

    # Stored objects

    def _charge_named(self, params: dict[str, str]) -> dict[str, Any] | None:
        if ("payment_intent" in params) == ("charge" in params):
            raise _invalid(
                "You must pass either a charge or a payment_intent (and not both).",
                code="parameter_missing",
            )
        if "charge" in params:
            if params["charge"] not in self.charges:
                raise _invalid(
                    f"No such charge: '{params['charge']}'", code="resource_missing", param="charge"
                )
            return self.charges[params["charge"]]
        intent = self.intents.get(params["payment_intent"])
        if intent is None:
            raise _invalid(
                f"No such payment_intent: '{params['payment_intent']}'",
                code="resource_missing",
                param="payment_intent",
            )
        return self.charges.get(intent["latest_charge"] or "")

    def _new_charge(
        self, intent: dict[str, Any], *, succeeded: bool, decline_code: str = ""
    ) -> dict[str, Any]:
        charge = _charge_json(
            self._new_id("ch"),
            intent=intent,
            payment_method=self._new_id("pm"),
            balance_transaction=self._new_id("txn") if succeeded else None,
            created=self.clock(),
            decline_code=decline_code,
        )
        self.charges[charge["id"]] = charge
        return charge

    def _new_refund(
        self,
        charge: dict[str, Any],
        amount: int,
        *,
        request: tuple[str, str | None] | None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        refund = _refund_json(
            self._new_id("re"),
            charge=charge,
            amount=amount,
            status=self.refunds_start_as,
            reason=reason,
            balance_transaction=self._new_id("txn"),
            created=self.clock(),
        )
        self.refunds[refund["id"]] = refund
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.event("refund.created", refund, request=request)
        self.event("charge.refunded", charge, previous_attributes=previous, request=request)
        return refund

    def _new_id(self, prefix: str) -> str:
        self._counters[prefix] = self._counters.get(prefix, 0) + 1
        return f"{prefix}_Fake{self._counters[prefix]:020d}"


# Parameters


def _only(params: dict[str, str], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed and not name.startswith("metadata["):
            raise _invalid(
                f"Received unknown parameter: {name}", code="parameter_unknown", param=name
            )


def _positive_int(params: dict[str, str], name: str) -> int:
    value = params.get(name, "")
    if not value.isdigit() or int(value) < 1:
        if not value:
            raise _invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)
        raise _invalid(
            "This value must be greater than or equal to 1.",
            code="parameter_invalid_integer",
            param=name,
        )
    return int(value)


CREATED_FILTERS = {"created[gt]", "created[gte]", "created[lt]", "created[lte]"}


def _page(params: dict[str, str], objects: list[dict[str, Any]], url: str) -> dict[str, Any]:
    """One page of a list call, as Stripe answers it: newest first, ``created[...]`` filters,
    ``limit`` (10 by default, at most 100) and the ``starting_after`` cursor."""
    limit = _positive_int(params, "limit") if "limit" in params else 10
    if limit > 100:
        raise _invalid("Invalid integer: must be at most 100", param="limit")
    bounds = {
        name[len("created[") : -1]: _positive_int(params, name)
        for name in CREATED_FILTERS
        if name in params
    }
    checks = {
        "gt": lambda at, bound: at > bound,
        "gte": lambda at, bound: at >= bound,
        "lt": lambda at, bound: at < bound,
        "lte": lambda at, bound: at <= bound,
    }
    found = [
        obj
        for obj in reversed(objects)  # in creation order: newest first
        if all(checks[op](obj["created"], bound) for op, bound in bounds.items())
    ]
    after = params.get("starting_after")
    if after is not None:
        ids = [obj["id"] for obj in found]
        if after not in ids:
            raise _invalid(
                f"No such object: '{after}'", code="resource_missing", param="starting_after"
            )
        found = found[ids.index(after) + 1 :]
    return {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": url}


def _metadata(params: dict[str, str]) -> dict[str, str]:
    return {
        name[len("metadata[") : -1]: value
        for name, value in params.items()
        if name.startswith("metadata[") and name.endswith("]")
    }


def _idempotency_error(key: str) -> dict[str, Any]:
    return {
        "message": "Keys for idempotent requests can only be used with the same parameters they "
        f"were first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        "type": "idempotency_error",
    }


# Recorded shapes (Stripe's API reference, API version STRIPE_API_VERSION)


def _payment_intent_json(
    intent_id: str,
    *,
    amount: int,
    currency: str,
    description: str | None,
    metadata: dict[str, str],
    automatic: bool,
    created: int,
    secret: str,
) -> dict[str, Any]:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": (
            {"allow_redirects": "always", "enabled": True} if automatic else None
        ),
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": secret,
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": (
            {"id": "pmc_FakeParqueMarino0000000", "parent": None} if automatic else None
        ),
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            },
            "link": {"persistent_token": None},
        },
        "payment_method_types": ["card", "link"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def _billing_details() -> dict[str, Any]:
    address = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))
    return {"address": address, "email": None, "name": None, "phone": None, "tax_id": None}


def _card(*, wallet: bool = False) -> dict[str, Any]:
    card = {
        "brand": "visa",
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": "ES",
        "exp_month": 12,
        "exp_year": 2030,
        "fingerprint": "FakeFingerprint0",
        "funding": "credit",
        "last4": "4242",
        "networks": {"available": ["visa"], "preferred": None},
    }
    if wallet:
        card["wallet"] = None
    return card


def _payment_method_json(payment_method_id: str, created: int) -> dict[str, Any]:
    return {
        "id": payment_method_id,
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": _billing_details(),
        "card": _card(),
        "created": created,
        "customer": None,
        "customer_account": None,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def _charge_json(
    charge_id: str,
    *,
    intent: dict[str, Any],
    payment_method: str,
    balance_transaction: str | None,
    created: int,
    decline_code: str,
) -> dict[str, Any]:
    succeeded = not decline_code
    outcome = {
        "advice_code": None if succeeded else "try_again_later",
        "network_advice_code": None,
        "network_decline_code": None if succeeded else "05",
        "network_status": "approved_by_network" if succeeded else "declined_by_network",
        "reason": None if succeeded else decline_code,
        "risk_level": "normal",
        "risk_score": 32,
        "seller_message": (
            "Payment complete."
            if succeeded
            else "The bank did not return any further details with this decline."
        ),
        "type": "authorized" if succeeded else "issuer_declined",
    }
    return {
        "id": charge_id,
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"] if succeeded else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": balance_transaction,
        "billing_details": _billing_details(),
        "calculated_statement_descriptor": "PARQUE MARINO",
        "captured": succeeded,
        "created": created,
        "currency": intent["currency"],
        "customer": None,
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if succeeded else "card_declined",
        "failure_message": None
        if succeeded
        else DECLINE_MESSAGES.get(decline_code, "Your card was declined."),
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": outcome,
        "paid": succeeded,
        "payment_intent": intent["id"],
        "payment_method": payment_method,
        "payment_method_details": {"card": _card(wallet=True), "type": "card"},
        "radar_options": {},
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/Fake{charge_id}",
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if succeeded else "failed",
        "transfer_data": None,
        "transfer_group": None,
    }


def _refund_json(
    refund_id: str,
    *,
    charge: dict[str, Any],
    amount: int,
    status: str,
    reason: str | None,
    balance_transaction: str,
    created: int,
) -> dict[str, Any]:
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": balance_transaction,
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "destination_details": {
            "card": {
                "reference": "FakeArn0000000000000000",
                "reference_status": "available" if status == "succeeded" else "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }
    if status == "pending":
        refund["pending_reason"] = "processing"
    if status == "requires_action":
        refund["next_action"] = {"display_details": None, "type": "display_details"}
    return refund


EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)


def _dispute_json(
    dispute_id: str, *, charge: dict[str, Any], amount: int, reason: str, created: int
) -> dict[str, Any]:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {
            "due_by": created + 21 * 86400,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "network_reason_code": "10.4",
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {
            "card": {"brand": "visa", "case_type": "chargeback", "network_reason_code": "10.4"},
            "type": "card",
        },
        "reason": reason,
        "status": "needs_response",
    }


# Switching the gateway on


@contextmanager
def stripe_switched_on(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    """The Stripe gateway on, with this fake's keys, answered by a new ``FakeStripe``; the
    settings and the patch are undone by the ``settings`` and ``monkeypatch`` fixtures."""
    fake = FakeStripe()
    if "stripe" not in settings.PAYMENT_GATEWAYS:
        settings.PAYMENT_GATEWAYS = [*settings.PAYMENT_GATEWAYS, "stripe"]
    settings.STRIPE_SECRET_KEY = fake.secret_key
    settings.STRIPE_PUBLISHABLE_KEY = fake.publishable_key
    settings.STRIPE_WEBHOOK_SECRET = fake.webhook_secret
    build = StripeGateway.from_settings
    monkeypatch.setattr(
        StripeGateway,
        "from_settings",
        classmethod(lambda cls, transport=None: build(transport=fake.transport)),
    )
    registry.reset()
    try:
        yield fake
    finally:
        registry.reset()
    fake.assert_no_unexpected_requests()


@pytest.fixture
def fake_stripe(settings, monkeypatch) -> Iterator[FakeStripe]:
    """Stripe switched on and faked for one test (see the module's doc)."""
    with stripe_switched_on(settings, monkeypatch) as fake:
        yield fake
