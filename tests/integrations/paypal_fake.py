"""A fake PayPal at the HTTP transport boundary (``httpx.MockTransport``), for tests.

A small PayPal in memory: OAuth2 client-credentials tokens, Orders v2 (create, show, capture),
captures and their refunds (Payments v2), ``PayPal-Request-Id`` replay, and the webhook
verification call. It answers in the shapes of PayPal's own JSON (its API reference and
webhook samples) and lets nothing reach the network: a request for another host or a path it
does not know is an ``AssertionError`` in the test.

Switching the gateway on
    The ``fake_paypal`` fixture lists "paypal" in ``PAYMENT_GATEWAYS``, sets the PayPal
    settings, resets the gateway registry before and after, and makes
    ``PayPalGateway.from_settings()`` talk to the fake. Import it into a test module, or a
    conftest, under its function's name (pytest knows it as ``fake_paypal``, and the name of
    the argument does not shadow the import)::

        from tests.integrations.paypal_fake import fake_paypal_fixture  # noqa: F401

        def test_paying_with_paypal(fake_paypal, api_client): ...

    ``use_fake_paypal(settings, monkeypatch)`` does the same for a fixture of your own (call
    ``registry.reset()`` after it). Without Django, ``FakePayPal().gateway()`` is a gateway
    wired to a fresh fake.

Acting as the buyer and as PayPal
    - ``order_id = fake_paypal.last_order_id`` (or the payment's ``gateway_reference``);
    - ``fake_paypal.approve(order_id)``: the buyer approves on PayPal; it returns the signed
      ``CHECKOUT.ORDER.APPROVED`` delivery PayPal sends then;
    - ``decline_next_capture(order_id, issue="INSTRUMENT_DECLINED")``: the next capture answers
      422 with that issue; ``capture_as(order_id, "PENDING" | "DECLINED" | "FAILED")``: the
      capture is made with that status (PENDING: ``reason="PENDING_REVIEW"``);
    - ``refund_as("PENDING" | "FAILED" | "CANCELLED")``: the status of the next refunds;
      ``settle_refund(refund_id, "COMPLETED")`` ends a pending one;
    - ``void(order_id)``, ``set_status(order_id, status)``;
    - ``fail_next(operation, status=503)``: the next such call answers 503 (or ``timeout=True``:
      raises a timeout); ``performed=True``: PayPal did the work and the answer was lost, so a
      retry with the same ``PayPal-Request-Id`` gets the first outcome.
      ``answer_next(operation, status, payload)``: the next such call gets exactly that answer
      (e.g. an order's JSON from ``order_json(order_id)`` as it was earlier).
      Operations: ``token``, ``create_order``, ``show_order``, ``capture_order``,
      ``show_capture``, ``refund_capture``, ``show_refund``, ``verify_webhook``,
      ``search_transactions``;
    - ``expire_tokens()``: PayPal forgets its tokens (the gateway's next call gets a 401).

Webhook deliveries
    ``approve``, ``order_approved_event``, ``capture_completed_event``,
    ``capture_denied_event`` (denies a pending capture first), ``refunded_event(refund_id)``,
    ``reversed_event`` (PayPal takes the rest of the capture back), ``dispute_created_event``
    and ``event(event_type, resource, ...)`` return ``{"body": str, "headers": dict}``, like
    the sandbox gateway's deliveries: post the body as ``application/json`` with those headers
    to ``/api/v1/payments/webhooks/paypal/``. They are signed as PayPal signs (transmission
    id, time, webhook id and the CRC32 of the body, with an HMAC here instead of PayPal's RSA
    key) and the fake's verification call answers ``SUCCESS`` only for the bytes it signed for
    the webhook id it signed them for. ``sign(body, at=...)`` signs any body (``at``: another
    transmission time).

Transaction Search
    ``GET /v1/reporting/transactions`` lists the captures (``T0006``) and refunds (``T1107``,
    negative amounts) made from ``start_date`` to ``end_date`` (at most 31 days), in pages of
    ``page_size`` (at most 500), as PayPal's reporting API does; ``search_page_size`` makes its
    pages smaller to exercise paging. Times are the fake's ``clock()`` when each was made.

Watching
    ``operations`` (names, in order), ``requests`` (the ``httpx.Request`` objects),
    ``orders`` (PayPal's JSON of each order; ``captures`` and ``refunds`` by id),
    ``json_of(operation)`` (the JSON body of the last such request), ``tokens_issued``.

Stricter than PayPal where the gateway must not rely on luck: every create, capture and
refund must carry a ``PayPal-Request-Id`` (an ``AssertionError`` otherwise), and one id may
serve one operation on one resource only (PayPal documents no scope for the ids).
"""

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
import pytest

from apps.integrations.payments import registry
from apps.integrations.payments.paypal import PayPalGateway

API = "https://api-m.sandbox.paypal.com"
CHECKOUT = "https://www.sandbox.paypal.com/checkoutnow"
CERT_URL = "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"
CLIENT_ID = "AYSq3RDGsmBLJE-otTkBtM-jBRd1TCQwFf9RGfwddNXWz0uFU9ztymylOhRS"
CLIENT_SECRET = "EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKYQvQSBngp4PTTVWkPZRbL"
WEBHOOK_ID = "8PT597110X687430LKGECATA"
AUTH_ALGO = "SHA256withRSA"
WHOLE_UNIT_CURRENCIES = {"HUF", "JPY", "TWD"}
PAYEE = {"email_address": "sb-parque@business.example.com", "merchant_id": "7KNGBPH2U58GQ"}
BUYER = {
    "name": {"given_name": "Mariña", "surname": "Solano Jiménez"},
    "email_address": "sb-marina@personal.example.com",
    "payer_id": "QYR5Z8XDVJNXQ",
    "address": {"country_code": "CR"},
}
ROUTES = (
    ("POST", r"/v1/oauth2/token", "token"),
    ("POST", r"/v2/checkout/orders", "create_order"),
    ("GET", r"/v2/checkout/orders/([^/]+)", "show_order"),
    ("POST", r"/v2/checkout/orders/([^/]+)/capture", "capture_order"),
    ("GET", r"/v2/payments/captures/([^/]+)", "show_capture"),
    ("POST", r"/v2/payments/captures/([^/]+)/refund", "refund_capture"),
    ("GET", r"/v2/payments/refunds/([^/]+)", "show_refund"),
    ("POST", r"/v1/notifications/verify-webhook-signature", "verify_webhook"),
    ("GET", r"/v1/reporting/transactions", "search_transactions"),
)
IDEMPOTENT = {"create_order", "capture_order", "refund_capture"}
# The 422 issues the fake answers, with PayPal's descriptions of them.
ISSUES = {
    "CANNOT_BE_ZERO_OR_NEGATIVE": "Must be greater than zero.",
    "CAPTURE_FULLY_REFUNDED": "The capture has already been fully refunded",
    "DECIMAL_PRECISION": "If the currency supports decimals, only two decimal place precision "
    "is supported.",
    "INSTRUMENT_DECLINED": "The instrument presented  was either declined by the processor or "
    "bank, or it can't be used for this payment.",
    "ORDER_ALREADY_CAPTURED": "Order already captured.If 'intent=CAPTURE' only one capture per "
    "order is allowed.",
    "ORDER_NOT_APPROVED": "Payer has not yet approved the Order for payment. Please redirect the "
    "payer to the 'rel':'approve' url returned as part of the HATEOAS links within the Create "
    "Order call or provide a valid payment_source in the request.",
    "PENDING_CAPTURE": "Cannot initiate a refund as the capture is pending.",
    "REFUND_AMOUNT_EXCEEDED": "The refund amount must be less than or equal to the capture "
    "amount that has not yet been refunded.",
    "REFUND_CAPTURE_CURRENCY_MISMATCH": "Refund must be in the same currency as the capture.",
    "REFUND_NOT_ALLOWED": "Refund refused. The capture cannot be refunded.",
}

Delivery = dict[str, Any]  # {"body": str, "headers": dict[str, str]}


def paypal_id() -> str:
    """An id shaped like PayPal's order, capture and refund ids ("5O190127TN364715T")."""
    return "".join(secrets.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(17))


def link(href: str, rel: str, method: str = "GET") -> dict[str, str]:
    return {"href": href, "rel": rel, "method": method}


def error(status: int, name: str, message: str, issue: str = "", description: str = "") -> Any:
    """PayPal's error shape (name, message, debug_id, details[].issue, links)."""
    payload: dict[str, Any] = {"name": name, "message": message, "debug_id": secrets.token_hex(7)}
    if issue:
        payload["details"] = [{"issue": issue, "description": description}]
        payload["links"] = [
            link(
                f"https://developer.paypal.com/docs/api/orders/v2/#error-{issue}",
                "information_link",
            )
        ]
    return status, payload


def unprocessable(issue: str) -> Any:
    return error(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed "
        "business validation.",
        issue,
        ISSUES.get(issue, "The requested action could not be performed."),
    )


def not_found(kind: str, resource_id: str) -> Any:
    status, payload = error(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        "INVALID_RESOURCE_ID",
        "Specified resource ID does not exist. Please check the resource ID and try again.",
    )
    payload["details"][0].update(field=f"{kind}_id", value=resource_id, location="path")
    return status, payload


def json_members(text: str) -> dict[str, str]:
    """The raw text of each member of one JSON object, as sent (PayPal's CRC32 is of bytes)."""
    decoder, at = json.JSONDecoder(), text.index("{") + 1
    members: dict[str, str] = {}
    while True:
        at = len(text) - len(text[at:].lstrip())
        if text[at] == "}":
            return members
        key, at = decoder.raw_decode(text, at)
        at = text.index(":", at) + 1
        at = len(text) - len(text[at:].lstrip())
        _, end = decoder.raw_decode(text, at)
        members[key], at = text[at:end], end
        at = len(text) - len(text[at:].lstrip())
        at += text[at] == ","


class FakePayPal:
    def __init__(
        self,
        *,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        webhook_id: str = WEBHOOK_ID,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id, self.client_secret, self.webhook_id = client_id, client_secret, webhook_id
        self.clock = clock
        self.cert_url = CERT_URL
        self.token_lifetime = 32400
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.orders: dict[str, dict[str, Any]] = {}
        self.captures: dict[str, tuple[str, dict[str, Any]]] = {}  # id -> (order id, capture)
        self.refunds: dict[str, tuple[str, dict[str, Any]]] = {}  # id -> (capture id, refund)
        self.requests: list[httpx.Request] = []
        self.operations: list[str] = []
        self.last_order_id = ""
        self.transport = httpx.MockTransport(self._handle)
        self._signing_key = secrets.token_bytes(32)
        self._replies: dict[str, tuple[str, str, int, Any]] = {}
        self._failures: dict[str, dict[str, Any]] = {}
        self._scripted: dict[str, list[tuple[int, Any]]] = {}
        self._capture_declines: dict[str, str] = {}
        self._capture_statuses: dict[str, tuple[str, str]] = {}
        self._refund_status = "COMPLETED"
        self.search_page_size: int | None = None

    def gateway(self, **options: Any) -> PayPalGateway:
        """A gateway wired to this fake (``options``: ``clock``, ``webhook_id``…)."""
        settings = {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "webhook_id": self.webhook_id,
            "environment": "sandbox",
            "timeout": 5.0,
        }
        return PayPalGateway(**{**settings, **options}, transport=self.transport)

    # --- The buyer's and PayPal's side ------------------------------------------------------

    def approve(self, order_id: str) -> Delivery:
        order = self.orders[order_id]
        assert order["status"] in ("CREATED", "PAYER_ACTION_REQUIRED"), order["status"]
        order["payment_source"] = {
            "paypal": {
                "email_address": BUYER["email_address"],
                "account_id": BUYER["payer_id"],
                "account_status": "VERIFIED",
                "name": BUYER["name"],
                "address": BUYER["address"],
            }
        }
        order["payer"] = copy.deepcopy(BUYER)
        self.set_status(order_id, "APPROVED")
        return self.order_approved_event(order_id)

    def void(self, order_id: str) -> None:
        self.set_status(order_id, "VOIDED")

    def set_status(self, order_id: str, status: str) -> None:
        order = self.orders[order_id]
        order["status"] = status
        order["update_time"] = self._now()
        me = f"{API}/v2/checkout/orders/{order_id}"
        order["links"] = {
            "CREATED": [
                link(me, "self"),
                link(f"{CHECKOUT}?token={order_id}", "approve"),
                link(me, "update", "PATCH"),
                link(f"{me}/capture", "capture", "POST"),
            ],
            "PAYER_ACTION_REQUIRED": [
                link(me, "self"),
                link(f"{CHECKOUT}?token={order_id}", "payer-action"),
            ],
            "APPROVED": [
                link(me, "self"),
                link(me, "update", "PATCH"),
                link(f"{me}/capture", "capture", "POST"),
            ],
        }.get(status, [link(me, "self")])

    def decline_next_capture(self, order_id: str, issue: str = "INSTRUMENT_DECLINED") -> None:
        self._capture_declines[order_id] = issue

    def capture_as(self, order_id: str, status: str, reason: str = "") -> None:
        reason = reason or {"PENDING": "PENDING_REVIEW"}.get(status, "")
        self._capture_statuses[order_id] = (status, reason)

    def refund_as(self, status: str) -> None:
        self._refund_status = status

    def settle_refund(self, refund_id: str, status: str = "COMPLETED") -> None:
        capture_id, refund = self.refunds[refund_id]
        refund["status"] = status
        refund.pop("status_details", None)
        refund["update_time"] = self._now()
        self._recount(capture_id)

    def fail_next(
        self, operation: str, *, status: int = 503, timeout: bool = False, performed: bool = False
    ) -> None:
        assert operation in {name for _, _, name in ROUTES}, operation
        self._failures[operation] = {"status": status, "timeout": timeout, "performed": performed}

    def answer_next(self, operation: str, status: int, payload: Any) -> None:
        """The next such call gets this answer (queued), whatever the fake's state; a payload
        in bytes is sent as it is."""
        assert operation in {name for _, _, name in ROUTES}, operation
        self._scripted.setdefault(operation, []).append((status, payload))

    def expire_tokens(self) -> None:
        """PayPal forgets every token it issued: the next call with one answers 401."""
        self.tokens.clear()

    def json_of(self, operation: str) -> Any:
        index = len(self.operations) - 1 - self.operations[::-1].index(operation)
        return json.loads(self.requests[index].content)

    # --- Webhook deliveries -----------------------------------------------------------------

    def order_approved_event(self, order_id: str) -> Delivery:
        return self.event(
            "CHECKOUT.ORDER.APPROVED",
            self.order_json(order_id),
            resource_type="checkout-order",
            summary="An order has been approved by buyer",
        )

    def capture_completed_event(self, order_id: str) -> Delivery:
        capture = self.capture_json(self._capture_of(order_id)["id"])
        return self._money_event("PAYMENT.CAPTURE.COMPLETED", capture, "Payment completed for {}")

    def capture_denied_event(self, order_id: str) -> Delivery:
        capture = self._capture_of(order_id)
        capture["status"] = "DECLINED"
        capture.pop("status_details", None)
        capture["update_time"] = self._now()
        return self._money_event(
            "PAYMENT.CAPTURE.DENIED", self.capture_json(capture["id"]), "Payment denied for {}"
        )

    def refunded_event(self, refund_id: str) -> Delivery:
        refund = copy.deepcopy(self.refunds[refund_id][1])
        return self._money_event(
            "PAYMENT.CAPTURE.REFUNDED", refund, "A {} capture payment was refunded"
        )

    def reversed_event(self, order_id: str) -> Delivery:
        capture = self._capture_of(order_id)
        status, refund = self._refund(capture, self._remaining(capture), "COMPLETED")
        assert status == 201, refund
        return self._money_event(
            "PAYMENT.CAPTURE.REVERSED", refund, "A {} capture payment was reversed"
        )

    def _money_event(self, event_type: str, resource: dict[str, Any], summary: str) -> Delivery:
        amount = resource["amount"]
        return self.event(
            event_type,
            resource,
            resource_type="refund" if event_type.endswith(("REFUNDED", "REVERSED")) else "capture",
            summary=summary.format(f"{amount['value']} {amount['currency_code']}"),
        )

    def dispute_created_event(
        self, order_id: str, reason: str = "MERCHANDISE_OR_SERVICE_NOT_RECEIVED"
    ) -> Delivery:
        capture = self._capture_of(order_id)
        dispute_id = f"PP-D-{secrets.randbelow(90000) + 10000}"
        now = self._now()
        return self.event(
            "CUSTOMER.DISPUTE.CREATED",
            {
                "dispute_id": dispute_id,
                "create_time": now,
                "update_time": now,
                "disputed_transactions": [
                    {
                        "buyer_transaction_id": paypal_id(),
                        "seller_transaction_id": capture["id"],
                        "create_time": capture["create_time"],
                        "transaction_status": "COMPLETED",
                        "gross_amount": capture["amount"],
                        "invoice_number": capture.get("invoice_id", ""),
                        "custom": capture.get("custom_id", ""),
                        "buyer": {"name": "Mariña Solano Jiménez"},
                        "seller": {
                            "email": PAYEE["email_address"],
                            "merchant_id": PAYEE["merchant_id"],
                            "name": "Parque Marino",
                        },
                    }
                ],
                "reason": reason,
                "status": "OPEN",
                "dispute_amount": capture["amount"],
                "dispute_life_cycle_stage": "INQUIRY",
                "dispute_channel": "INTERNAL",
                "messages": [
                    {
                        "posted_by": "BUYER",
                        "time_posted": now,
                        "content": "No he recibido las entradas, ¿dónde están?",
                    }
                ],
                "links": [link(f"{API}/v1/customer/disputes/{dispute_id}", "self")],
            },
            resource_type="dispute",
            summary=f"A new dispute opened with Case # {dispute_id}",
        )

    def event(
        self,
        event_type: str,
        resource: dict[str, Any],
        *,
        resource_type: str,
        summary: str,
        event_id: str = "",
        at: float | None = None,
    ) -> Delivery:
        event_id = event_id or f"WH-{paypal_id()}-{paypal_id()}"
        payload = {
            "id": event_id,
            "event_version": "1.0",
            "create_time": self._now(millis=True),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
            "links": [
                link(f"{API}/v1/notifications/webhooks-events/{event_id}", "self"),
                link(f"{API}/v1/notifications/webhooks-events/{event_id}/resend", "resend", "POST"),
            ],
        }
        # Compact, with raw UTF-8 (the buyer's name): a gateway that parses and serializes the
        # event again before verifying it sends PayPal other bytes and fails, as with PayPal.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return {"body": body, "headers": self.sign(body, at=at)}

    def sign(
        self, body: str | bytes, *, at: float | None = None, webhook_id: str = ""
    ) -> dict[str, str]:
        """PayPal's transmission headers for ``body`` sent at ``at`` (now by default)."""
        raw = body.encode() if isinstance(body, str) else body
        transmission_id = str(uuid.uuid1())
        sent = datetime.fromtimestamp(self.clock() if at is None else at, tz=UTC)
        transmission_time = sent.strftime("%Y-%m-%dT%H:%M:%SZ")
        signed = f"{transmission_id}|{transmission_time}|{webhook_id or self.webhook_id}|"
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-TRANSMISSION-SIG": self._signature(signed + str(zlib.crc32(raw))),
            "PAYPAL-CERT-URL": self.cert_url,
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
        }

    def _signature(self, message: str) -> str:
        digest = hmac.new(self._signing_key, message.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    # --- HTTP -------------------------------------------------------------------------------

    def _handle(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
        assert origin == API, f"A request left for the network: {request.method} {url}"
        path = url.raw_path.decode().partition("?")[0]  # "%2F" inside an id stays in the id
        route = next(
            (
                (operation, match)
                for method, pattern, operation in ROUTES
                if method == request.method and (match := re.fullmatch(pattern, path))
            ),
            None,
        )
        assert route, f"The fake PayPal has no {request.method} {url.path}"
        operation, match = route
        self.requests.append(request)
        self.operations.append(operation)
        failure = self._failures.pop(operation, None)
        if failure and not failure["performed"]:
            return self._fail(request, failure)
        target = unquote(match.group(1)) if match.groups() else ""
        if self._scripted.get(operation):
            status, payload = self._scripted[operation].pop(0)
        else:
            status, payload = self._answer(request, operation, target)
        if failure:
            return self._fail(request, failure)
        if isinstance(payload, bytes):
            return httpx.Response(status, content=payload)
        return httpx.Response(status, json=payload)

    @staticmethod
    def _fail(request: httpx.Request, failure: dict[str, Any]) -> httpx.Response:
        if failure["timeout"]:
            raise httpx.ReadTimeout("The fake PayPal did not answer in time.", request=request)
        status, payload = error(failure["status"], "INTERNAL_SERVICE_ERROR", "An internal error.")
        return httpx.Response(status, json=payload)

    def _answer(self, request: httpx.Request, operation: str, target: str) -> Any:
        if operation == "token":
            return self._token(request)
        bearer = request.headers.get("Authorization", "")
        if bearer.removeprefix("Bearer ") not in self.tokens:
            return 401, {"error": "invalid_token", "error_description": "Token signature failed"}
        if operation not in IDEMPOTENT:
            return getattr(self, f"_{operation}")(request, target)
        request_id = request.headers.get("PayPal-Request-Id", "")
        assert request_id, f"{operation} without a PayPal-Request-Id: a retry could pay twice"
        if request_id in self._replies:
            first_operation, first_target, status, payload = self._replies[request_id]
            assert (first_operation, first_target) == (operation, target), (
                f"PayPal-Request-Id {request_id!r} reused for {operation} {target}"
            )
            return status, copy.deepcopy(payload)
        status, payload = getattr(self, f"_{operation}")(request, target)
        if request.headers.get("Prefer") != "return=representation" and status < 300:
            payload = {key: payload[key] for key in ("id", "status", "links")}
        self._replies[request_id] = (operation, target, status, copy.deepcopy(payload))
        return status, payload

    def _token(self, request: httpx.Request) -> Any:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        form = parse_qs(request.content.decode())
        if request.headers.get("Authorization") != f"Basic {expected}":
            return 401, {
                "error": "invalid_client",
                "error_description": "Client Authentication failed",
            }
        assert form == {"grant_type": ["client_credentials"]}, form
        token = f"A21AA{secrets.token_urlsafe(60)}"
        self.tokens.add(token)
        self.tokens_issued += 1
        return 200, {
            "scope": "https://uri.paypal.com/services/payments/refund "
            "https://uri.paypal.com/services/payments/payment/authcapture "
            "https://uri.paypal.com/services/applications/webhooks openid",
            "access_token": token,
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": self.token_lifetime,
            "nonce": f"{self._now()}{secrets.token_urlsafe(30)}",
        }

    def _create_order(self, request: httpx.Request, _: str) -> Any:
        body = json.loads(request.content)
        units = body.get("purchase_units")
        if body.get("intent") not in ("CAPTURE", "AUTHORIZE") or not units or len(units) != 1:
            return error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed.",
                "MISSING_REQUIRED_PARAMETER",
                "A required field / parameter is missing.",
            )
        unit = units[0]
        amount = unit.get("amount") or {}
        value, currency = amount.get("value", ""), amount.get("currency_code", "")
        if not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", value) or not re.fullmatch(
            r"[A-Z]{3}", currency
        ):
            return error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed.",
                "INVALID_PARAMETER_SYNTAX",
                "The value of a field does not conform to the expected format.",
            )
        if currency in WHOLE_UNIT_CURRENCIES and "." in value:
            return unprocessable("DECIMAL_PRECISION")
        order_id = paypal_id()
        kept = {key: unit[key] for key in ("description", "custom_id", "invoice_id") if key in unit}
        order: dict[str, Any] = {
            "id": order_id,
            "intent": body["intent"],
            "status": "",
            "purchase_units": [
                {"reference_id": "default", "amount": amount, "payee": PAYEE, **kept},
            ],
            "create_time": self._now(),
            "links": [],
        }
        # Asked through payment_source.paypal, the buyer's step is a "payer-action" link;
        # through the older application_context, an "approve" link.
        wallet = "paypal" in (body.get("payment_source") or {})
        if wallet:
            order["payment_source"] = {"paypal": {}}
        self.orders[order_id] = order
        self.set_status(order_id, "PAYER_ACTION_REQUIRED" if wallet else "CREATED")
        self.last_order_id = order_id
        return 201, self.order_json(order_id)

    def _show_order(self, _: httpx.Request, order_id: str) -> Any:
        if order_id not in self.orders:
            return not_found("order", order_id)
        return 200, self.order_json(order_id)

    def _capture_order(self, _: httpx.Request, order_id: str) -> Any:
        order = self.orders.get(order_id)
        if order is None:
            return not_found("order", order_id)
        if order["status"] == "COMPLETED":
            return unprocessable("ORDER_ALREADY_CAPTURED")
        if order["status"] != "APPROVED":
            return unprocessable("ORDER_NOT_APPROVED")
        if order_id in self._capture_declines:
            return unprocessable(self._capture_declines.pop(order_id))
        unit = order["purchase_units"][0]
        status, reason = self._capture_statuses.pop(order_id, ("COMPLETED", ""))
        capture_id, now = paypal_id(), self._now()
        me = f"{API}/v2/payments/captures/{capture_id}"
        gross = unit["amount"]
        fee = _scaled(Decimal(gross["value"]) * Decimal("0.0349"), gross["value"])
        capture: dict[str, Any] = {
            "id": capture_id,
            "status": status,
            "amount": gross,
            "final_capture": True,
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "seller_receivable_breakdown": {
                "gross_amount": gross,
                "paypal_fee": {"currency_code": gross["currency_code"], "value": fee},
                "net_amount": {
                    "currency_code": gross["currency_code"],
                    "value": _scaled(Decimal(gross["value"]) - Decimal(fee), gross["value"]),
                },
            },
            **{key: unit[key] for key in ("custom_id", "invoice_id") if key in unit},
            "links": [
                link(me, "self"),
                link(f"{me}/refund", "refund", "POST"),
                link(f"{API}/v2/checkout/orders/{order_id}", "up"),
            ],
            "create_time": now,
            "update_time": now,
        }
        if reason:
            capture["status_details"] = {"reason": reason}
        unit["payments"] = {"captures": [capture]}
        self.captures[capture_id] = (order_id, capture)
        self.set_status(order_id, "COMPLETED")
        return 201, self.order_json(order_id)

    def _show_capture(self, _: httpx.Request, capture_id: str) -> Any:
        if capture_id not in self.captures:
            return not_found("capture", capture_id)
        return 200, self.capture_json(capture_id)

    def _refund_capture(self, request: httpx.Request, capture_id: str) -> Any:
        if capture_id not in self.captures:
            return not_found("capture", capture_id)
        capture = self.captures[capture_id][1]
        asked = json.loads(request.content or b"{}").get("amount") or {
            "currency_code": capture["amount"]["currency_code"],
            "value": self._remaining(capture),
        }
        if asked["currency_code"] != capture["amount"]["currency_code"]:
            return unprocessable("REFUND_CAPTURE_CURRENCY_MISMATCH")
        return self._refund(capture, asked["value"], self._refund_status)

    def _refund(self, capture: dict[str, Any], value: str, status: str) -> Any:
        currency = capture["amount"]["currency_code"]
        if capture["status"] == "REFUNDED":
            return unprocessable("CAPTURE_FULLY_REFUNDED")
        if capture["status"] == "PENDING":
            return unprocessable("PENDING_CAPTURE")
        if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
            return unprocessable("REFUND_NOT_ALLOWED")
        if Decimal(value) <= 0:
            return unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE")
        if Decimal(value) > Decimal(self._remaining(capture)):
            return unprocessable("REFUND_AMOUNT_EXCEEDED")
        refund_id, now = paypal_id(), self._now()
        amount = {"currency_code": currency, "value": value}
        refund: dict[str, Any] = {
            "id": refund_id,
            "amount": amount,
            "seller_payable_breakdown": {
                "gross_amount": amount,
                "paypal_fee": {"currency_code": currency, "value": _scaled(Decimal(0), value)},
                "net_amount": amount,
            },
            **{key: capture[key] for key in ("invoice_id", "custom_id") if key in capture},
            "status": status,
            "create_time": now,
            "update_time": now,
            "links": [
                link(f"{API}/v2/payments/refunds/{refund_id}", "self"),
                link(f"{API}/v2/payments/captures/{capture['id']}", "up"),
            ],
        }
        if status == "PENDING":
            refund["status_details"] = {"reason": "ECHECK"}
        self.refunds[refund_id] = (capture["id"], refund)
        order_id = self.captures[capture["id"]][0]
        self.orders[order_id]["purchase_units"][0]["payments"].setdefault("refunds", []).append(
            refund
        )
        self._recount(capture["id"])
        return 201, copy.deepcopy(refund)

    def _show_refund(self, _: httpx.Request, refund_id: str) -> Any:
        if refund_id not in self.refunds:
            return not_found("refund", refund_id)
        return 200, copy.deepcopy(self.refunds[refund_id][1])

    def _verify_webhook(self, request: httpx.Request, _: str) -> Any:
        text = request.content.decode()
        fields, members = json.loads(text), json_members(text)
        needed = (
            "auth_algo",
            "cert_url",
            "transmission_id",
            "transmission_sig",
            "transmission_time",
            "webhook_id",
            "webhook_event",
        )
        missing = [name for name in needed if not fields.get(name)]
        if missing:
            return error(
                400,
                "VALIDATION_ERROR",
                "Invalid request - see details",
                "MISSING_REQUIRED_PARAMETER",
                f"{missing[0]} is required.",
            )
        signed = (
            f"{fields['transmission_id']}|{fields['transmission_time']}|{fields['webhook_id']}|"
            f"{zlib.crc32(members['webhook_event'].encode())}"
        )
        genuine = (
            fields["auth_algo"] == AUTH_ALGO
            and fields["cert_url"] == self.cert_url
            and fields["webhook_id"] == self.webhook_id
            and hmac.compare_digest(fields["transmission_sig"], self._signature(signed))
        )
        return 200, {"verification_status": "SUCCESS" if genuine else "FAILURE"}

    def _search_transactions(self, request: httpx.Request, _: str) -> Any:
        query = {key: values[-1] for key, values in parse_qs(request.url.query.decode()).items()}
        try:
            start = datetime.fromisoformat(query["start_date"])
            end = datetime.fromisoformat(query["end_date"])
            page, size = int(query.get("page", "1")), int(query.get("page_size", "100"))
        except (KeyError, ValueError):
            return error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                "INVALID_PARAMETER_SYNTAX",
                "start_date and end_date are required, in ISO 8601.",
            )
        if not (end > start and (end - start).days <= 31 and 1 <= size <= 500 and page >= 1):
            return error(
                400,
                "INVALID_REQUEST",
                "Request is not well-formed, syntactically incorrect, or violates schema.",
                "INVALID_PARAMETER_VALUE",
                "The date range is at most 31 days; page_size 1 to 500.",
            )
        found = [
            info
            for info in self._transaction_infos()
            if start <= datetime.fromisoformat(info["transaction_initiation_date"]) <= end
        ]
        size = min(size, self.search_page_size or size)
        pages = max(1, -(-len(found) // size))
        return 200, {
            "transaction_details": [
                {"transaction_info": info, "payer_info": {"account_id": BUYER["payer_id"]}}
                for info in found[(page - 1) * size : page * size]
            ],
            "account_number": PAYEE["merchant_id"],
            "start_date": query["start_date"],
            "end_date": query["end_date"],
            "last_refreshed_datetime": self._now(),
            "page": page,
            "total_items": len(found),
            "total_pages": pages,
            "links": [],
        }

    def _transaction_infos(self) -> list[dict[str, Any]]:
        """Every capture and refund as Transaction Search lists them, in the order made."""
        letters = {"COMPLETED": "S", "PARTIALLY_REFUNDED": "F", "REFUNDED": "S", "PENDING": "P"}
        infos = []
        for capture_id, (_order_id, capture) in self.captures.items():
            infos.append(
                {
                    "paypal_account_id": BUYER["payer_id"],
                    "transaction_id": capture_id,
                    "transaction_event_code": "T0006",
                    "transaction_initiation_date": _search_time(capture["create_time"]),
                    "transaction_updated_date": _search_time(capture["update_time"]),
                    "transaction_amount": capture["amount"],
                    "transaction_status": letters.get(capture["status"], "D"),
                    "invoice_id": capture.get("invoice_id", ""),
                    "custom_field": capture.get("custom_id", ""),
                    "protection_eligibility": "01",
                }
            )
        for refund_id, (capture_id, refund) in self.refunds.items():
            amount = refund["amount"]
            infos.append(
                {
                    "paypal_account_id": BUYER["payer_id"],
                    "transaction_id": refund_id,
                    "paypal_reference_id": capture_id,
                    "paypal_reference_id_type": "TXN",
                    "transaction_event_code": "T1107",
                    "transaction_initiation_date": _search_time(refund["create_time"]),
                    "transaction_updated_date": _search_time(refund["update_time"]),
                    "transaction_amount": {**amount, "value": f"-{amount['value']}"},
                    "transaction_status": {"COMPLETED": "S", "PENDING": "P"}.get(
                        refund["status"], "D"
                    ),
                    "invoice_id": refund.get("invoice_id", ""),
                    "custom_field": refund.get("custom_id", ""),
                }
            )
        return sorted(infos, key=lambda info: info["transaction_initiation_date"])

    # --- State ------------------------------------------------------------------------------

    def order_json(self, order_id: str) -> dict[str, Any]:
        return copy.deepcopy(self.orders[order_id])

    def capture_json(self, capture_id: str) -> dict[str, Any]:
        order_id, capture = self.captures[capture_id]
        return {
            **copy.deepcopy(capture),
            "supplementary_data": {"related_ids": {"order_id": order_id}},
        }

    def _capture_of(self, order_id: str) -> dict[str, Any]:
        captures = self.orders[order_id]["purchase_units"][0].get("payments", {}).get("captures")
        assert captures, f"PayPal order {order_id} has not been captured"
        return captures[0]

    def _refunded(self, capture_id: str, statuses: tuple[str, ...]) -> Decimal:
        return sum(
            (
                Decimal(refund["amount"]["value"])
                for owner, refund in self.refunds.values()
                if owner == capture_id and refund["status"] in statuses
            ),
            Decimal(0),
        )

    def _remaining(self, capture: dict[str, Any]) -> str:
        value = capture["amount"]["value"]
        taken = self._refunded(capture["id"], ("COMPLETED", "PENDING"))
        return _scaled(Decimal(value) - taken, value)

    def _recount(self, capture_id: str) -> None:
        capture = self.captures[capture_id][1]
        done = self._refunded(capture_id, ("COMPLETED",))
        if done:
            capture["status"] = (
                "REFUNDED" if done >= Decimal(capture["amount"]["value"]) else "PARTIALLY_REFUNDED"
            )
            capture["update_time"] = self._now()

    def _now(self, *, millis: bool = False) -> str:
        moment = datetime.fromtimestamp(self.clock(), tz=UTC)
        if millis:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _search_time(api_time: str) -> str:
    """Transaction Search's time ("2026-11-30T16:15:30+0000") of an API time ("...Z")."""
    return api_time.replace("Z", "+0000")


def _scaled(value: Decimal, like: str) -> str:
    """``value`` with as many decimals as ``like`` ("12.50" → two)."""
    places = len(like.partition(".")[2])
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def use_fake_paypal(settings: Any, monkeypatch: pytest.MonkeyPatch) -> FakePayPal:
    """Switch the PayPal gateway on, talking to a new fake (pytest-django's ``settings``)."""
    fake = FakePayPal()
    settings.PAYMENT_GATEWAYS = [*(n for n in settings.PAYMENT_GATEWAYS if n != "paypal"), "paypal"]
    settings.PAYPAL_CLIENT_ID = fake.client_id
    settings.PAYPAL_CLIENT_SECRET = fake.client_secret
    settings.PAYPAL_WEBHOOK_ID = fake.webhook_id
    settings.PAYPAL_ENVIRONMENT = "sandbox"
    build = PayPalGateway.from_settings
    monkeypatch.setattr(
        PayPalGateway,
        "from_settings",
        classmethod(lambda cls, **_: build(transport=fake.transport)),
    )
    registry.reset()
    return fake


@pytest.fixture(name="fake_paypal")
def fake_paypal_fixture(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePayPal]:
    """The PayPal gateway on, talking to a fake PayPal (see this module's docstring)."""
    fake = use_fake_paypal(settings, monkeypatch)
    yield fake
    registry.reset()
