"""PayPal: Orders v2 (the buyer approves on PayPal, the park captures), Payments v2 refunds, and
webhooks verified by PayPal's verification call; plain HTTP with httpx (ADR 25).

- Every call carries an OAuth2 access token (client credentials), cached until shortly before
  it expires and fetched again once when PayPal answers 401.
- Every call that creates or moves money (create order, capture, refund) carries
  ``PayPal-Request-Id: <idempotency key>``: PayPal answers a repeated id with the first
  request's outcome, so a retry after a timeout never charges or refunds twice.
- Amounts cross the protocol in minor units of ISO 4217 (as ``to_minor_units`` computes them)
  and PayPal's as decimal strings: 1250 USD is "12.50", 1500 JPY is "1500".
- PayPal's definite refusals (4xx with an issue, e.g. 422 ``INSTRUMENT_DECLINED``) are answers:
  declined payments, failed refunds. Network errors, timeouts, 5xx, 408/409/429 and a 401 after
  a fresh token are ``GatewayError``: the outcome is unknown, the caller retries with the same
  key.
- ``transactions`` reads the Transaction Search API (``GET /v1/reporting/transactions``, every
  page): captures and refunds of a time range, named by capture id (the park's payment keeps
  it as ``capture_reference``). It needs the account's reporting permission, and PayPal lists
  a transaction up to three hours after it happened (docs/adr/0031).
"""

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

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
from .currency import currency_exponent

logger = logging.getLogger(__name__)

BASE_URLS = {"sandbox": "https://api-m.sandbox.paypal.com", "live": "https://api-m.paypal.com"}
# A cached token is replaced this long before PayPal says it expires (they last hours).
TOKEN_MARGIN_SECONDS = 120
# A delivery is refused when PayPal sent it longer ago than this, or this far in the future.
WEBHOOK_MAX_AGE_SECONDS = 300
WEBHOOK_MAX_SKEW_SECONDS = 60
WEBHOOK_HEADERS = (
    "PAYPAL-TRANSMISSION-ID",
    "PAYPAL-TRANSMISSION-TIME",
    "PAYPAL-TRANSMISSION-SIG",
    "PAYPAL-CERT-URL",
    "PAYPAL-AUTH-ALGO",
)
# Statuses whose 4xx answers are not a refusal of this request but "try again".
RETRYABLE_STATUSES = {401, 408, 409, 429}

# Currencies with cents in ISO 4217 that PayPal takes in whole units only.
PAYPAL_WHOLE_UNIT_CURRENCIES = frozenset({"HUF", "TWD"})

PENDING_ORDER_STATUSES = {"CREATED", "SAVED", "PAYER_ACTION_REQUIRED"}
SETTLED_CAPTURE_STATUSES = {"COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"}
FAILED_CAPTURE_STATUSES = {"DECLINED", "FAILED"}
REFUND_OUTCOMES = {
    "COMPLETED": RefundOutcome.SUCCEEDED,
    "PENDING": RefundOutcome.PENDING,
    "FAILED": RefundOutcome.FAILED,
    "CANCELLED": RefundOutcome.FAILED,
}

# Transaction Search: the largest page, the event codes of money taken (T00xx: payments of
# every kind, T0006 for Checkout's captures) and given back (T11xx: refunds, reversals), and
# the states of its one-letter ``transaction_status``.
SEARCH_PAGE_SIZE = 500
SEARCH_MAX_PAGES = 200  # 100,000 lines a day: far beyond a park, short of an endless loop
PAYMENT_EVENT_PREFIX = "T00"
REFUND_EVENT_PREFIX = "T11"
SEARCH_PAYMENT_STATUSES = {
    "S": TransactionStatus.SUCCEEDED,
    "F": TransactionStatus.SUCCEEDED,  # partially refunded since: taken all the same
    "V": TransactionStatus.SUCCEEDED,  # reversed since: the reversal is a line of its own
    "P": TransactionStatus.PENDING,
    "D": TransactionStatus.FAILED,
}
SEARCH_REFUND_STATUSES = {
    "S": TransactionStatus.SUCCEEDED,
    "P": TransactionStatus.PENDING,
    "D": TransactionStatus.FAILED,
    "V": TransactionStatus.FAILED,
}


def paypal_value(amount_minor: int, currency: str) -> str:
    """PayPal's decimal string for an amount in minor units: 1250 USD is "12.50"."""
    places = currency_exponent(currency)
    value = Decimal(amount_minor).scaleb(-places)
    if currency.upper() in PAYPAL_WHOLE_UNIT_CURRENCIES and value == value.to_integral_value():
        places = 0  # a fractional forint goes as it is and PayPal refuses it (422)
    return f"{value:.{places}f}"


def minor_units(money: Any) -> int:
    """Minor units of one of PayPal's money objects ({"currency_code", "value"})."""
    try:
        exact = Decimal(money["value"]).scaleb(currency_exponent(money["currency_code"]))
        if exact != exact.to_integral_value():
            raise ValueError(money["value"])
        return int(exact)
    except (KeyError, TypeError, AttributeError, ValueError, ArithmeticError) as error:
        raise GatewayError("PayPal sent an amount that is not an amount.") from error


def _text(data: Any, *path: str | int) -> str:
    """The string at ``path`` inside nested objects and lists, or "" where there is none."""
    for step in path:
        if isinstance(step, int):
            data = data[step] if isinstance(data, list) and len(data) > step else None
        else:
            data = data.get(step) if isinstance(data, dict) else None
    return data if isinstance(data, str) else ""


def _unix_time(value: Any) -> int | None:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return int(moment.timestamp()) if moment.tzinfo is not None else None


class _Refused(Exception):
    """PayPal refused this request for good (a 4xx with an issue): an answer, not a failure."""

    def __init__(self, status: int, issue: str, description: str) -> None:
        super().__init__(f"{issue}: {description}")
        self.status = status
        self.issue = issue
        self.description = description


class PayPalGateway:
    name = "paypal"
    charges_on_start = False

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        webhook_id: str,
        environment: str = "sandbox",
        timeout: float = 20.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if environment not in BASE_URLS:
            raise ValueError(f"PAYPAL_ENVIRONMENT must be one of {sorted(BASE_URLS)}.")
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_id = webhook_id
        self.environment = environment
        self.clock = clock
        self.http = httpx.Client(
            base_url=BASE_URLS[environment],
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )
        self._token = ""
        self._token_expires_at = 0.0
        self._token_lock = threading.Lock()

    @classmethod
    def from_settings(cls, *, transport: httpx.BaseTransport | None = None) -> "PayPalGateway":
        from django.conf import settings

        return cls(
            client_id=settings.PAYPAL_CLIENT_ID,
            client_secret=settings.PAYPAL_CLIENT_SECRET,
            webhook_id=settings.PAYPAL_WEBHOOK_ID,
            environment=settings.PAYPAL_ENVIRONMENT,
            timeout=settings.PAYMENTS_GATEWAY_TIMEOUT,
            transport=transport,
        )

    def public_config(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "environment": self.environment}

    # --- Payments ---------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentResult:
        experience = {"user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING"}
        if request.return_url:
            experience["return_url"] = request.return_url
        if request.cancel_url:
            experience["cancel_url"] = request.cancel_url
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "custom_id": request.reference,
                    "invoice_id": request.reference,
                    "description": request.description[:127],
                    "amount": {
                        "currency_code": request.currency.upper(),
                        "value": paypal_value(request.amount_minor, request.currency),
                    },
                }
            ],
            "payment_source": {"paypal": {"experience_context": experience}},
        }
        try:
            order = self._call(
                "POST", "/v2/checkout/orders", body=body, request_id=request.idempotency_key
            )
        except _Refused as refusal:
            return self._declined("", refusal)
        return self._order_result(order)

    def resume_payment(self, *, gateway_reference: str, idempotency_key: str) -> PaymentResult:
        try:
            order = self._order(gateway_reference)
        except _Refused as refusal:
            if refusal.status == 404:  # never created here, or expired unapproved
                return self._declined(gateway_reference, refusal)
            raise GatewayError(f"PayPal refused to show the order: {refusal}") from refusal
        if _text(order, "status") != "APPROVED":
            return self._order_result(order)
        try:
            captured = self._call(
                "POST",
                f"/v2/checkout/orders/{self._segment(gateway_reference)}/capture",
                body=None,
                request_id=idempotency_key,
            )
        except _Refused as refusal:
            if refusal.issue == "ORDER_ALREADY_CAPTURED":  # captured by an earlier attempt
                return self._order_result(self._order(gateway_reference))
            if refusal.issue == "ORDER_NOT_APPROVED":
                return PaymentResult(
                    outcome=PaymentOutcome.PENDING, gateway_reference=gateway_reference
                )
            return self._declined(gateway_reference, refusal)
        return self._order_result(captured)

    def _order(self, order_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v2/checkout/orders/{self._segment(order_id)}")

    def _order_result(self, order: dict[str, Any]) -> PaymentResult:
        order_id, status = _text(order, "id"), _text(order, "status")
        if not order_id:
            raise GatewayError("PayPal answered an order without an id.")
        if status in PENDING_ORDER_STATUSES or status == "APPROVED":
            link = next(
                (
                    _text(link, "href")
                    for link in order.get("links") or []
                    if _text(link, "rel") in ("payer-action", "approve")
                ),
                "",
            )
            return PaymentResult(
                outcome=PaymentOutcome.PENDING,
                gateway_reference=order_id,
                next_action={"type": "redirect", "url": link} if link else None,
            )
        if status == "VOIDED":
            return PaymentResult(
                outcome=PaymentOutcome.DECLINED,
                gateway_reference=order_id,
                failure_code="ORDER_VOIDED",
                failure_message="PayPal voided the order: it can no longer be paid.",
            )
        if status == "COMPLETED":
            return self._capture_result(order_id, order)
        raise GatewayError(f"PayPal answered an order in an unknown status: {status!r}.")

    def _capture_result(self, order_id: str, order: dict[str, Any]) -> PaymentResult:
        captures = [
            capture
            for unit in order.get("purchase_units") or []
            if isinstance(unit, dict)
            for capture in _list(unit.get("payments"), "captures")
        ]
        if not captures:
            raise GatewayError("PayPal answered a completed order without a capture.")
        capture, status = captures[0], _text(captures[0], "status")
        if status in SETTLED_CAPTURE_STATUSES and _text(capture, "id"):
            return PaymentResult(
                outcome=PaymentOutcome.SUCCEEDED,
                gateway_reference=order_id,
                capture_reference=_text(capture, "id"),
            )
        if status == "PENDING":  # e.g. PENDING_REVIEW: a webhook tells the end
            return PaymentResult(outcome=PaymentOutcome.PENDING, gateway_reference=order_id)
        if status in FAILED_CAPTURE_STATUSES:
            reason = _text(capture, "status_details", "reason")
            return PaymentResult(
                outcome=PaymentOutcome.DECLINED,
                gateway_reference=order_id,
                failure_code=reason or f"CAPTURE_{status}",
                failure_message=f"PayPal's capture ended {status}.",
            )
        raise GatewayError(f"PayPal answered a capture in an unknown status: {status!r}.")

    @staticmethod
    def _declined(order_id: str, refusal: _Refused) -> PaymentResult:
        return PaymentResult(
            outcome=PaymentOutcome.DECLINED,
            gateway_reference=order_id,
            failure_code=refusal.issue,
            failure_message=refusal.description,
        )

    # --- Refunds ----------------------------------------------------------------------------

    def refund(
        self,
        *,
        gateway_reference: str,
        capture_reference: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
    ) -> RefundResult:
        try:
            capture_id = capture_reference or self._capture_of(gateway_reference)
            if not capture_id:
                return RefundResult(
                    outcome=RefundOutcome.FAILED,
                    gateway_reference="",
                    failure_message="PayPal holds no capture of this order to refund.",
                )
            refund = self._call(
                "POST",
                f"/v2/payments/captures/{self._segment(capture_id)}/refund",
                body={
                    "amount": {
                        "currency_code": currency.upper(),
                        "value": paypal_value(amount_minor, currency),
                    }
                },
                request_id=idempotency_key,
            )
        except _Refused as refusal:
            return RefundResult(
                outcome=RefundOutcome.FAILED, gateway_reference="", failure_message=str(refusal)
            )
        result = self._refund_result(refund)
        if result.amount_minor is None:
            return RefundResult(
                outcome=result.outcome,
                gateway_reference=result.gateway_reference,
                amount_minor=amount_minor,
                failure_message=result.failure_message,
            )
        return result

    def refunds(self, *, gateway_reference: str, capture_reference: str) -> list[RefundResult]:
        try:
            order_id = gateway_reference or _text(
                self._call("GET", f"/v2/payments/captures/{self._segment(capture_reference)}"),
                "supplementary_data",
                "related_ids",
                "order_id",
            )
            if not order_id:
                raise GatewayError("PayPal does not say which order the capture belongs to.")
            order = self._order(order_id)
        except _Refused as refusal:
            raise GatewayError(f"PayPal refused to list the refunds: {refusal}") from refusal
        return [
            self._refund_result(refund)
            for unit in order.get("purchase_units") or []
            if isinstance(unit, dict)
            for refund in _list(unit.get("payments"), "refunds")
        ]

    def _capture_of(self, order_id: str) -> str:
        order = self._order(order_id)
        return next(
            (
                _text(capture, "id")
                for unit in order.get("purchase_units") or []
                if isinstance(unit, dict)
                for capture in _list(unit.get("payments"), "captures")
                if _text(capture, "status") in SETTLED_CAPTURE_STATUSES
            ),
            "",
        )

    @staticmethod
    def _refund_result(refund: Any) -> RefundResult:
        status = _text(refund, "status")
        if status not in REFUND_OUTCOMES or not _text(refund, "id"):
            raise GatewayError(f"PayPal answered a refund in an unknown status: {status!r}.")
        outcome = REFUND_OUTCOMES[status]
        reason = _text(refund, "status_details", "reason")
        message = f"PayPal's refund ended {status}" + (f" ({reason})." if reason else ".")
        return RefundResult(
            outcome=outcome,
            gateway_reference=_text(refund, "id"),
            amount_minor=minor_units(refund["amount"]) if "amount" in refund else None,
            failure_message=message if outcome == RefundOutcome.FAILED else "",
        )

    # --- Statements -------------------------------------------------------------------------

    def transactions(self, *, start: datetime, end: datetime) -> list[GatewayTransaction]:
        query = {
            "start_date": _search_time(start),
            "end_date": _search_time(end),
            "fields": "all",
            "page_size": SEARCH_PAGE_SIZE,
        }
        lines: list[GatewayTransaction] = []
        page, pages = 1, 1
        while page <= pages:
            try:
                answer = self._call(
                    "GET", "/v1/reporting/transactions?" + urlencode({**query, "page": page})
                )
            except _Refused as refusal:
                raise GatewayError(
                    f"PayPal refused the transaction search ({refusal}); the account needs "
                    "the Transaction Search permission."
                ) from refusal
            for detail in _list(answer, "transaction_details"):
                line = _search_line(detail.get("transaction_info"))
                if line is not None and start <= line.occurred_at < end:
                    lines.append(line)
            total = answer.get("total_pages")
            pages = min(total, SEARCH_MAX_PAGES) if isinstance(total, int) else 1
            page += 1
        return sorted(lines, key=lambda line: (line.occurred_at, line.reference))

    # --- Webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, *, headers: dict[str, str], body: bytes) -> WebhookEvent:
        """Check the transmission headers and their time, then ask PayPal whether it signed
        this delivery (ADR 25); only then read the event."""
        received = {str(key).upper(): value for key, value in headers.items()}
        values = {}
        for name in WEBHOOK_HEADERS:
            value = received.get(name)
            if not isinstance(value, str) or not value.strip():
                raise WebhookRejected(f"The {name} header is missing.")
            values[name] = value.strip()
        sent_at = _unix_time(values["PAYPAL-TRANSMISSION-TIME"])
        if sent_at is None:
            raise WebhookRejected("The PAYPAL-TRANSMISSION-TIME header is not a time.")
        age = self.clock() - sent_at
        if age > WEBHOOK_MAX_AGE_SECONDS or age < -WEBHOOK_MAX_SKEW_SECONDS:
            raise WebhookRejected("The delivery's transmission time is outside the tolerance.")
        payload = _event_payload(body)
        # PayPal checks a CRC32 of the event as it sent it: the body goes back byte for byte,
        # spliced in (it parsed above as one JSON object), never parsed and serialized again.
        fields = json.dumps(
            {
                "auth_algo": values["PAYPAL-AUTH-ALGO"],
                "cert_url": values["PAYPAL-CERT-URL"],
                "transmission_id": values["PAYPAL-TRANSMISSION-ID"],
                "transmission_sig": values["PAYPAL-TRANSMISSION-SIG"],
                "transmission_time": values["PAYPAL-TRANSMISSION-TIME"],
                "webhook_id": self.webhook_id,
            },
            separators=(",", ":"),
        )
        content = fields[:-1].encode() + b',"webhook_event":' + body + b"}"
        try:
            answer = self._call("POST", "/v1/notifications/verify-webhook-signature", content)
        except (GatewayError, _Refused) as error:
            raise WebhookRejected(f"PayPal could not verify the delivery: {error}") from error
        if answer.get("verification_status") != "SUCCESS":
            raise WebhookRejected("PayPal did not verify the delivery's signature.")
        return self._event(payload)

    def event_from_stored_body(self, body: bytes) -> WebhookEvent:
        return self._event(_event_payload(body))

    def _event(self, payload: dict[str, Any]) -> WebhookEvent:
        event_id, event_type, resource = payload["id"], payload["event_type"], payload["resource"]
        common: dict[str, Any] = {
            "event_id": event_id,
            "event_type": event_type,
            "created": _unix_time(payload.get("create_time")),
        }
        order_of_capture = _text(resource, "supplementary_data", "related_ids", "order_id")
        if event_type == "CHECKOUT.ORDER.APPROVED":
            return WebhookEvent(
                **common,
                gateway_reference=_required(resource, "id"),
                kind=EventKind.PAYMENT_APPROVED,
            )
        if event_type == "PAYMENT.CAPTURE.COMPLETED":
            return WebhookEvent(
                **common,
                gateway_reference=order_of_capture,
                capture_reference=_required(resource, "id"),
                kind=EventKind.PAYMENT_SUCCEEDED,
            )
        if event_type in ("PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED"):
            return WebhookEvent(
                **common,
                gateway_reference=order_of_capture,
                capture_reference=_required(resource, "id"),
                kind=EventKind.PAYMENT_FAILED,
                failure_code=_text(resource, "status_details", "reason")
                or event_type.rsplit(".", 1)[1],
                failure_message=_text(payload, "summary") or "PayPal denied the capture.",
            )
        if event_type in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"):
            capture_id = _up_capture(resource)
            return WebhookEvent(
                **common,
                gateway_reference=order_of_capture,
                capture_reference=capture_id,
                kind=EventKind.REFUNDS_CHANGED if capture_id or order_of_capture else None,
            )
        if event_type == "CUSTOMER.DISPUTE.CREATED":
            capture_id = _text(resource, "disputed_transactions", 0, "seller_transaction_id")
            try:
                amount = minor_units(resource.get("dispute_amount"))
            except GatewayError:
                amount = None
            return WebhookEvent(
                **common,
                gateway_reference="",
                capture_reference=capture_id,
                kind=EventKind.DISPUTE_OPENED if capture_id else None,
                failure_code=_text(resource, "reason"),
                failure_message=_text(payload, "summary"),
                amount_minor=amount if capture_id else None,
            )
        return WebhookEvent(**common, gateway_reference="", kind=None)

    # --- HTTP -------------------------------------------------------------------------------

    @staticmethod
    def _segment(reference: str) -> str:
        if not reference:
            raise GatewayError("No PayPal reference to ask about.")
        return quote(reference, safe="")

    def _call(
        self,
        method: str,
        path: str,
        content: bytes | None = None,
        *,
        body: dict[str, Any] | None = None,
        request_id: str = "",
    ) -> dict[str, Any]:
        """One API call, its token fetched again once on a 401; the answer's JSON object.

        Raises ``_Refused`` for PayPal's definite refusals, ``GatewayError`` for the rest."""
        headers: dict[str, str] = {}
        if method == "POST":
            headers["Content-Type"] = "application/json"
            content = json.dumps(body, separators=(",", ":")).encode() if body else content
        if request_id:
            headers["PayPal-Request-Id"] = request_id
            headers["Prefer"] = "return=representation"
        for attempt in (1, 2):
            token = self._access_token()
            try:
                response = self.http.request(
                    method,
                    path,
                    content=content,
                    headers={**headers, "Authorization": f"Bearer {token}"},
                )
            except httpx.HTTPError as error:
                raise GatewayError(f"PayPal did not answer: {type(error).__name__}.") from error
            if response.status_code == 401 and attempt == 1:
                self._forget_token(token)
                continue
            break
        return self._answer(response, f"{method} {urlsplit(path).path}")

    @staticmethod
    def _answer(response: httpx.Response, call: str) -> dict[str, Any]:
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if 200 <= status < 300:
            if not isinstance(payload, dict):
                raise GatewayError(f"PayPal answered {call} with something not a JSON object.")
            return payload
        issue = _text(payload, "details", 0, "issue") or _text(payload, "name")
        logger.warning(
            "PayPal answered %s to %s: %s (debug_id %s)",
            status,
            call,
            issue or "no issue",
            _text(payload, "debug_id") or "none",
        )
        if 400 <= status < 500 and status not in RETRYABLE_STATUSES:
            description = _text(payload, "details", 0, "description") or _text(payload, "message")
            raise _Refused(status, issue or f"HTTP_{status}", description)
        raise GatewayError(f"PayPal answered {status} to {call}.")

    def _access_token(self) -> str:
        # One thread fetches while the others wait for its token; no database lock is held
        # here (gateways are called outside transactions).
        with self._token_lock:
            if self._token and self.clock() < self._token_expires_at:
                return self._token
            try:
                response = self.http.post(
                    "/v1/oauth2/token",
                    data={"grant_type": "client_credentials"},
                    auth=(self.client_id, self.client_secret),
                )
            except httpx.HTTPError as error:
                raise GatewayError(f"PayPal did not answer: {type(error).__name__}.") from error
            if response.status_code != 200:
                raise GatewayError(f"PayPal refused the credentials ({response.status_code}).")
            try:
                payload = response.json()
                token, lifetime = payload["access_token"], payload["expires_in"]
            except (ValueError, KeyError, TypeError) as error:
                raise GatewayError("PayPal answered the token request unusably.") from error
            if not isinstance(token, str) or not token or not isinstance(lifetime, int):
                raise GatewayError("PayPal answered the token request unusably.")
            self._token = token
            self._token_expires_at = self.clock() + lifetime - TOKEN_MARGIN_SECONDS
            return token

    def _forget_token(self, token: str) -> None:
        with self._token_lock:
            if self._token == token:  # not one another thread has fetched meanwhile
                self._token = ""


def _search_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _search_line(info: Any) -> GatewayTransaction | None:
    """A statement line from one ``transaction_info``; ``None`` for what is neither a payment
    nor a refund (fees, transfers, holds)."""
    code = _text(info, "transaction_event_code")
    if code.startswith(PAYMENT_EVENT_PREFIX):
        kind, statuses = TransactionKind.PAYMENT, SEARCH_PAYMENT_STATUSES
    elif code.startswith(REFUND_EVENT_PREFIX):
        kind, statuses = TransactionKind.REFUND, SEARCH_REFUND_STATUSES
    else:
        return None
    transaction_id = _text(info, "transaction_id")
    status = statuses.get(_text(info, "transaction_status"))
    occurred = _text(info, "transaction_initiation_date")
    try:
        occurred_at = datetime.fromisoformat(occurred)
    except ValueError:
        occurred_at = None
    money = info.get("transaction_amount") if isinstance(info, dict) else None
    if (
        not transaction_id
        or status is None
        or occurred_at is None
        or occurred_at.tzinfo is None
        or not isinstance(money, dict)
    ):
        raise GatewayError("PayPal listed a transaction that is not one.")
    value = str(money.get("value", "")).removeprefix("-")  # refunds are negative
    amount = minor_units({**money, "value": value})
    is_refund = kind == TransactionKind.REFUND
    return GatewayTransaction(
        kind=kind,
        gateway_reference="",  # PayPal's report names captures, not the orders they paid
        capture_reference=_text(info, "paypal_reference_id") if is_refund else transaction_id,
        refund_reference=transaction_id if is_refund else "",
        amount_minor=amount,
        currency=_text(money, "currency_code").upper(),
        status=status,
        occurred_at=occurred_at,
    )


def _list(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _required(resource: Mapping[str, Any], key: str) -> str:
    value = _text(resource, key)
    if not value:
        raise WebhookRejected(f"The event's resource has no {key}.")
    return value


def _up_capture(refund: Any) -> str:
    """The capture a refund belongs to, from its "up" link (…/v2/payments/captures/<id>)."""
    for link in _list(refund, "links"):
        if _text(link, "rel") == "up":
            parts = urlsplit(_text(link, "href")).path.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] == "captures":
                return parts[-1]
    return ""


def _event_payload(body: bytes) -> dict[str, Any]:
    """A PayPal event from raw bytes: strict UTF-8 JSON, an object with an id, an event type
    and a resource object."""
    try:
        # UTF-8 only: json.loads would guess UTF-16 or UTF-32 from the bytes themselves.
        payload = json.loads(body.decode("utf-8"))
        # A lone surrogate (an escape JSON allows) is no text the database could store.
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError) as error:  # UnicodeError is a ValueError
        raise WebhookRejected("The body is not a PayPal event (not UTF-8 JSON).") from error
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("id"), str)
        or not isinstance(payload.get("event_type"), str)
        or not isinstance(payload.get("resource"), dict)
    ):
        raise WebhookRejected("The body is not a PayPal event.")
    return payload
