"""The PayPal gateway against a fake PayPal at the HTTP transport boundary (ADR 25)."""

import base64
import json
import threading

import httpx
import pytest

from apps.integrations.payments import (
    EventKind,
    GatewayError,
    PaymentOutcome,
    PaymentRequest,
    PaymentResult,
    RefundOutcome,
    RefundResult,
    WebhookEvent,
    WebhookRejected,
    enabled_gateways,
    registry,
)
from apps.integrations.payments.paypal import PayPalGateway, paypal_value
from tests.integrations.paypal_fake import (
    API,
    CHECKOUT,
    ISSUES,
    FakePayPal,
    fake_paypal_fixture,  # noqa: F401 (the fixture fake_paypal)
    paypal_id,
)

NOW = 1_796_000_000.0  # 2026-11-29T22:53:20Z
WEBHOOK_HEADERS = (
    "PAYPAL-TRANSMISSION-ID",
    "PAYPAL-TRANSMISSION-TIME",
    "PAYPAL-TRANSMISSION-SIG",
    "PAYPAL-CERT-URL",
    "PAYPAL-AUTH-ALGO",
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock) -> FakePayPal:
    return FakePayPal(clock=clock)


@pytest.fixture
def gateway(fake, clock) -> PayPalGateway:
    return fake.gateway(clock=clock)


def payment(**changes) -> PaymentRequest:
    fields = {
        "amount_minor": 1250,
        "currency": "USD",
        "reference": "PAY-7Q2M4K",
        "description": "Parque Marino: 1 entrada — adulto",
        "idempotency_key": "payment-41",
        "return_url": "https://parque.example/pagos/volver",
        "cancel_url": "https://parque.example/pagos/cancelar",
        **changes,
    }
    return PaymentRequest(**fields)


def started(gateway, **changes) -> str:
    return gateway.start_payment(payment(**changes)).gateway_reference


def captured(fake, gateway, **changes) -> tuple[str, str]:
    order_id = started(gateway, **changes)
    fake.approve(order_id)
    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")
    assert result.outcome == PaymentOutcome.SUCCEEDED
    return order_id, result.capture_reference


def refund(gateway, order_id, capture_id, amount_minor=250, key="refund-41", currency="USD"):
    return gateway.refund(
        gateway_reference=order_id,
        capture_reference=capture_id,
        amount_minor=amount_minor,
        currency=currency,
        idempotency_key=key,
    )


def last_request(fake, operation) -> httpx.Request:
    return next(
        request
        for request, name in zip(fake.requests[::-1], fake.operations[::-1], strict=True)
        if name == operation
    )


# --- Settings, the fixture and the fake ---------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "host"),
    [("sandbox", "https://api-m.sandbox.paypal.com"), ("live", "https://api-m.paypal.com")],
)
def test_from_settings_reads_every_setting(settings, environment, host):
    settings.PAYPAL_CLIENT_ID = "client-id"
    settings.PAYPAL_CLIENT_SECRET = "client-secret"
    settings.PAYPAL_WEBHOOK_ID = "WEBHOOK1"
    settings.PAYPAL_ENVIRONMENT = environment
    settings.PAYMENTS_GATEWAY_TIMEOUT = 7.5
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.scheme}://{request.url.host}{request.url.path}")
        return httpx.Response(503)

    gateway = PayPalGateway.from_settings(transport=httpx.MockTransport(answer))

    with pytest.raises(GatewayError):
        gateway.start_payment(payment())
    assert seen == [f"{host}/v1/oauth2/token"]
    assert (gateway.client_id, gateway.client_secret, gateway.webhook_id) == (
        "client-id",
        "client-secret",
        "WEBHOOK1",
    )
    assert gateway.http.timeout == httpx.Timeout(7.5)
    assert gateway.public_config() == {"client_id": "client-id", "environment": environment}


def test_an_unknown_environment_is_refused():
    with pytest.raises(ValueError, match="PAYPAL_ENVIRONMENT"):
        PayPalGateway(client_id="a", client_secret="b", webhook_id="c", environment="production")


def test_the_fixture_switches_the_gateway_on_and_routes_it_to_the_fake(fake_paypal):
    gateway = registry.get_gateway("paypal")

    result = gateway.start_payment(payment())

    assert "paypal" in enabled_gateways()
    assert isinstance(gateway, PayPalGateway)
    assert gateway.public_config() == {"client_id": fake_paypal.client_id, "environment": "sandbox"}
    assert fake_paypal.operations == ["token", "create_order"]
    assert result.gateway_reference == fake_paypal.last_order_id


@pytest.mark.parametrize(
    "url", [f"{API}/v1/payments/payment", "https://api-m.paypal.com/v2/checkout/orders"]
)
def test_the_fake_lets_no_request_reach_the_network(fake, url):
    with httpx.Client(transport=fake.transport) as client, pytest.raises(AssertionError):
        client.post(url)
    assert fake.operations == []


# --- Starting a payment: creating the order -----------------------------------------------------


def test_start_payment_creates_one_order_to_capture_with_the_request_id(fake, gateway):
    result = gateway.start_payment(payment())

    order_id = fake.last_order_id
    request = last_request(fake, "create_order")
    assert json.loads(request.content) == {
        "intent": "CAPTURE",
        "purchase_units": [
            {
                "custom_id": "PAY-7Q2M4K",
                "invoice_id": "PAY-7Q2M4K",
                "description": "Parque Marino: 1 entrada — adulto",
                "amount": {"currency_code": "USD", "value": "12.50"},
            }
        ],
        "payment_source": {
            "paypal": {
                "experience_context": {
                    "user_action": "PAY_NOW",
                    "shipping_preference": "NO_SHIPPING",
                    "return_url": "https://parque.example/pagos/volver",
                    "cancel_url": "https://parque.example/pagos/cancelar",
                }
            }
        },
    }
    assert (request.method, request.url.path) == ("POST", "/v2/checkout/orders")
    assert request.headers["PayPal-Request-Id"] == "payment-41"
    assert request.headers["Prefer"] == "return=representation"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"].removeprefix("Bearer ") in fake.tokens
    assert result == PaymentResult(
        outcome=PaymentOutcome.PENDING,
        gateway_reference=order_id,
        next_action={"type": "redirect", "url": f"{CHECKOUT}?token={order_id}"},
    )
    assert fake.orders[order_id]["status"] == "PAYER_ACTION_REQUIRED"


def test_start_payment_leaves_out_missing_urls_and_cuts_the_description(fake, gateway):
    gateway.start_payment(payment(return_url="", cancel_url="", description="x" * 200))

    sent = fake.json_of("create_order")
    assert sent["payment_source"]["paypal"]["experience_context"] == {
        "user_action": "PAY_NOW",
        "shipping_preference": "NO_SHIPPING",
    }
    assert sent["purchase_units"][0]["description"] == "x" * 127


@pytest.mark.parametrize(
    ("amount_minor", "currency", "value"),
    [
        (1250, "USD", "12.50"),
        (1500, "JPY", "1500"),
        (290000, "CRC", "2900.00"),
        (5, "usd", "0.05"),
        (100, "EUR", "1.00"),
        (150000, "HUF", "1500"),  # forints have cents in ISO 4217, none at PayPal
        (99900, "TWD", "999"),
    ],
)
def test_amounts_go_as_paypal_decimal_strings(fake, gateway, amount_minor, currency, value):
    gateway.start_payment(payment(amount_minor=amount_minor, currency=currency))

    assert fake.json_of("create_order")["purchase_units"][0]["amount"] == {
        "currency_code": currency.upper(),
        "value": value,
    }


@pytest.mark.parametrize(
    ("amount_minor", "currency", "value"),
    [(8500, "KWD", "8.500"), (150050, "HUF", "1500.50"), (0, "USD", "0.00"), (7, "JPY", "7")],
)
def test_paypal_value_keeps_the_currency_exponent(amount_minor, currency, value):
    assert paypal_value(amount_minor, currency) == value


def test_fractional_forints_are_declined_as_paypal_refuses_them(fake, gateway):
    result = gateway.start_payment(payment(amount_minor=150050, currency="HUF"))

    assert result == PaymentResult(
        outcome=PaymentOutcome.DECLINED,
        gateway_reference="",
        failure_code="DECIMAL_PRECISION",
        failure_message=ISSUES["DECIMAL_PRECISION"],
    )
    assert fake.orders == {}


def test_the_same_key_gets_the_same_order_and_another_key_a_new_one(fake, gateway):
    first = gateway.start_payment(payment())
    again = gateway.start_payment(payment())
    other = gateway.start_payment(payment(idempotency_key="payment-42"))

    assert again == first
    assert other.gateway_reference != first.gateway_reference
    assert sorted(fake.orders) == sorted([first.gateway_reference, other.gateway_reference])
    assert [
        request.headers["PayPal-Request-Id"]
        for request, name in zip(fake.requests, fake.operations, strict=True)
        if name == "create_order"
    ] == ["payment-41", "payment-41", "payment-42"]


@pytest.mark.parametrize(
    "failure",
    [{"status": 500}, {"status": 503}, {"status": 429}, {"status": 409}, {"timeout": True}],
)
def test_unanswered_or_failed_creations_are_gateway_errors(fake, gateway, failure):
    fake.fail_next("create_order", **failure)

    with pytest.raises(GatewayError):
        gateway.start_payment(payment())
    assert fake.orders == {}


def test_a_lost_answer_is_recovered_by_retrying_with_the_same_key(fake, gateway):
    fake.fail_next("create_order", timeout=True, performed=True)
    with pytest.raises(GatewayError):
        gateway.start_payment(payment())
    (order_id,) = fake.orders

    result = gateway.start_payment(payment())

    assert result.gateway_reference == order_id
    assert list(fake.orders) == [order_id]


def test_a_refused_creation_is_declined_with_paypal_issue(fake, gateway):
    fake.answer_next(
        "create_order",
        400,
        {
            "name": "INVALID_REQUEST",
            "message": "Request is not well-formed, syntactically incorrect, or violates schema.",
            "debug_id": "90957fca61718",
            "details": [
                {
                    "field": "/purchase_units/0/amount/currency_code",
                    "issue": "CURRENCY_NOT_SUPPORTED",
                    "description": "Currency code is not currently supported.",
                }
            ],
        },
    )

    result = gateway.start_payment(payment(currency="CRC", amount_minor=290000))

    assert (result.outcome, result.failure_code, result.failure_message) == (
        PaymentOutcome.DECLINED,
        "CURRENCY_NOT_SUPPORTED",
        "Currency code is not currently supported.",
    )


@pytest.mark.parametrize(
    "content", [b"<html>Created</html>", b"[]", b'{"status": "CREATED"}', b"{}"]
)
def test_an_unusable_answer_is_a_gateway_error(fake, gateway, content):
    fake.answer_next("create_order", 201, content)

    with pytest.raises(GatewayError):
        gateway.start_payment(payment())


# --- The access token -------------------------------------------------------------------------


def test_the_token_is_asked_with_the_client_credentials_and_reused(fake, gateway):
    gateway.start_payment(payment())
    gateway.start_payment(payment(idempotency_key="payment-42"))

    token_request = fake.requests[0]
    assert fake.operations == ["token", "create_order", "create_order"]
    assert token_request.content == b"grant_type=client_credentials"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    credentials = base64.b64encode(f"{fake.client_id}:{fake.client_secret}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {credentials}"
    assert fake.tokens_issued == 1


def test_the_token_is_asked_again_shortly_before_it_expires(fake, gateway, clock):
    fake.token_lifetime = 3600
    gateway.start_payment(payment())

    clock.now = NOW + 3600 - 121
    gateway.start_payment(payment())
    reused = fake.tokens_issued
    clock.now = NOW + 3600 - 119
    gateway.start_payment(payment())

    assert (reused, fake.tokens_issued) == (1, 2)
    assert fake.operations == ["token", "create_order", "create_order", "token", "create_order"]


def test_a_401_gets_a_new_token_once_and_the_call_again(fake, gateway):
    gateway.start_payment(payment())
    fake.expire_tokens()

    result = gateway.start_payment(payment(idempotency_key="payment-42"))

    assert result.outcome == PaymentOutcome.PENDING
    assert fake.operations == ["token", "create_order", "create_order", "token", "create_order"]
    assert len(fake.orders) == 2


def test_a_second_401_is_a_gateway_error(fake, gateway):
    unauthorized = {"error": "invalid_token", "error_description": "Token signature failed"}
    fake.answer_next("create_order", 401, unauthorized)
    fake.answer_next("create_order", 401, unauthorized)

    with pytest.raises(GatewayError):
        gateway.start_payment(payment())
    assert fake.operations == ["token", "create_order", "token", "create_order"]
    assert fake.orders == {}


def test_refused_credentials_are_a_gateway_error(fake):
    gateway = fake.gateway(client_secret="not-the-secret")

    with pytest.raises(GatewayError, match="credentials"):
        gateway.start_payment(payment())
    assert fake.operations == ["token"]


@pytest.mark.parametrize("failure", [{"status": 503}, {"timeout": True}])
def test_an_unreachable_token_endpoint_is_a_gateway_error(fake, gateway, failure):
    fake.fail_next("token", **failure)

    with pytest.raises(GatewayError):
        gateway.start_payment(payment())
    assert fake.operations == ["token"]


def test_threads_wanting_a_token_together_fetch_one(fake, clock):
    arrived = threading.Barrier(8)
    slow = threading.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/oauth2/token":
            slow.wait(0.2)  # the first fetch takes a while: the others must wait for it
        return fake.transport.handle_request(request)

    gateway = PayPalGateway(
        client_id=fake.client_id,
        client_secret=fake.client_secret,
        webhook_id=fake.webhook_id,
        transport=httpx.MockTransport(answer),
        clock=clock,
    )
    tokens: list[str] = []

    def fetch() -> None:
        arrived.wait()
        tokens.append(gateway._access_token())

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert fake.tokens_issued == 1
    assert len(set(tokens)) == 1
    assert len(tokens) == 8


# --- Resuming: the buyer's approval, the capture ------------------------------------------------


def test_before_the_approval_resuming_is_pending_with_the_link_again(fake, gateway):
    order_id = started(gateway)

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    assert result == PaymentResult(
        outcome=PaymentOutcome.PENDING,
        gateway_reference=order_id,
        next_action={"type": "redirect", "url": f"{CHECKOUT}?token={order_id}"},
    )
    assert fake.operations[-1] == "show_order"
    assert fake.captures == {}


@pytest.mark.parametrize(
    ("status", "next_action"),
    [
        ("CREATED", "approve"),
        ("PAYER_ACTION_REQUIRED", "payer-action"),
        ("SAVED", None),
    ],
)
def test_orders_awaiting_the_buyer_are_pending(fake, gateway, status, next_action):
    order_id = started(gateway)
    fake.set_status(order_id, status)

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    url = f"{CHECKOUT}?token={order_id}"
    assert result == PaymentResult(
        outcome=PaymentOutcome.PENDING,
        gateway_reference=order_id,
        next_action={"type": "redirect", "url": url} if next_action else None,
    )
    assert [link["rel"] for link in fake.orders[order_id]["links"] if link["href"] == url] == (
        [next_action] if next_action else []
    )


def test_an_approved_order_is_captured_with_the_request_id(fake, gateway):
    order_id = started(gateway)
    fake.approve(order_id)

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    (capture_id,) = fake.captures
    request = last_request(fake, "capture_order")
    assert result == PaymentResult(
        outcome=PaymentOutcome.SUCCEEDED, gateway_reference=order_id, capture_reference=capture_id
    )
    assert fake.operations[-2:] == ["show_order", "capture_order"]
    assert request.url.path == f"/v2/checkout/orders/{order_id}/capture"
    assert request.content == b""
    assert request.headers["PayPal-Request-Id"] == "capture-41"
    assert request.headers["Prefer"] == "return=representation"
    assert request.headers["Content-Type"] == "application/json"


def test_a_completed_order_is_succeeded_without_a_second_capture(fake, gateway):
    order_id, capture_id = captured(fake, gateway)

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-42")

    assert result == PaymentResult(
        outcome=PaymentOutcome.SUCCEEDED, gateway_reference=order_id, capture_reference=capture_id
    )
    assert fake.operations[-1] == "show_order"
    assert fake.operations.count("capture_order") == 1


@pytest.mark.parametrize(
    ("status", "reason", "outcome", "failure_code"),
    [
        ("PENDING", "PENDING_REVIEW", PaymentOutcome.PENDING, ""),
        ("DECLINED", "", PaymentOutcome.DECLINED, "CAPTURE_DECLINED"),
        ("FAILED", "", PaymentOutcome.DECLINED, "CAPTURE_FAILED"),
        (
            "DECLINED",
            "DECLINED_BY_RISK_FRAUD_FILTERS",
            PaymentOutcome.DECLINED,
            "DECLINED_BY_RISK_FRAUD_FILTERS",
        ),
    ],
)
def test_the_capture_status_decides(fake, gateway, status, reason, outcome, failure_code):
    order_id = started(gateway)
    fake.approve(order_id)
    fake.capture_as(order_id, status, reason)

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    assert result == PaymentResult(
        outcome=outcome,
        gateway_reference=order_id,
        failure_code=failure_code,
        failure_message=f"PayPal's capture ended {status}." if failure_code else "",
    )
    assert fake.orders[order_id]["status"] == "COMPLETED"


@pytest.mark.parametrize("issue", ["INSTRUMENT_DECLINED", "PAYER_ACCOUNT_RESTRICTED"])
def test_a_422_on_capture_is_declined_with_the_issue(fake, gateway, issue):
    order_id = started(gateway)
    fake.approve(order_id)
    fake.decline_next_capture(order_id, issue)

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    assert result == PaymentResult(
        outcome=PaymentOutcome.DECLINED,
        gateway_reference=order_id,
        failure_code=issue,
        failure_message=ISSUES.get(issue, "The requested action could not be performed."),
    )
    assert fake.captures == {}


def test_an_order_captured_meanwhile_is_read_again_and_succeeded(fake, gateway):
    order_id = started(gateway)
    fake.approve(order_id)
    as_approved = fake.order_json(order_id)
    elsewhere = fake.gateway().resume_payment(gateway_reference=order_id, idempotency_key="c-1")
    fake.answer_next("show_order", 200, as_approved)  # this worker read it before that capture
    fake.operations.clear()

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    assert result == PaymentResult(
        outcome=PaymentOutcome.SUCCEEDED,
        gateway_reference=order_id,
        capture_reference=elsewhere.capture_reference,
    )
    assert fake.operations == ["show_order", "capture_order", "show_order"]
    assert len(fake.captures) == 1


def test_an_order_not_approved_after_all_stays_pending(fake, gateway):
    order_id = started(gateway)
    fake.answer_next("show_order", 200, {**fake.order_json(order_id), "status": "APPROVED"})

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    assert result == PaymentResult(outcome=PaymentOutcome.PENDING, gateway_reference=order_id)
    assert fake.operations[-2:] == ["show_order", "capture_order"]
    assert fake.captures == {}


def test_a_lost_capture_answer_never_captures_twice(fake, gateway):
    order_id = started(gateway)
    fake.approve(order_id)
    fake.fail_next("capture_order", timeout=True, performed=True)
    with pytest.raises(GatewayError):
        gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    (capture_id,) = fake.captures
    assert result.outcome == PaymentOutcome.SUCCEEDED
    assert result.capture_reference == capture_id


def test_a_capture_retried_with_its_key_gets_paypal_first_answer(fake, gateway):
    order_id = started(gateway)
    fake.approve(order_id)
    fake.fail_next("capture_order", status=503, performed=True)
    with pytest.raises(GatewayError):
        gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")
    fake.answer_next("show_order", 200, {**fake.order_json(order_id), "status": "APPROVED"})

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    (capture_id,) = fake.captures
    assert result.capture_reference == capture_id
    assert fake.operations.count("capture_order") == 2


def test_a_voided_order_is_declined(fake, gateway):
    order_id = started(gateway)
    fake.void(order_id)

    result = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")

    assert result == PaymentResult(
        outcome=PaymentOutcome.DECLINED,
        gateway_reference=order_id,
        failure_code="ORDER_VOIDED",
        failure_message="PayPal voided the order: it can no longer be paid.",
    )


def test_an_unknown_order_is_declined(fake, gateway):
    result = gateway.resume_payment(gateway_reference="5O190127TN364715T", idempotency_key="c-1")

    assert result == PaymentResult(
        outcome=PaymentOutcome.DECLINED,
        gateway_reference="5O190127TN364715T",
        failure_code="INVALID_RESOURCE_ID",
        failure_message="Specified resource ID does not exist. Please check the resource ID and "
        "try again.",
    )


@pytest.mark.parametrize(
    ("operation", "failure"),
    [
        ("show_order", {"status": 500}),
        ("show_order", {"timeout": True}),
        ("capture_order", {"status": 502}),
        ("capture_order", {"timeout": True}),
    ],
)
def test_failures_while_resuming_are_gateway_errors(fake, gateway, operation, failure):
    order_id = started(gateway)
    fake.approve(order_id)
    fake.fail_next(operation, **failure)

    with pytest.raises(GatewayError):
        gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")
    assert fake.captures == {}


@pytest.mark.parametrize("order", [{"id": "5O190127TN364715T", "status": "PARTIALLY_DONE"}, {}])
def test_an_order_in_an_unknown_shape_is_a_gateway_error(fake, gateway, order):
    fake.answer_next("show_order", 200, order)

    with pytest.raises(GatewayError):
        gateway.resume_payment(gateway_reference="5O190127TN364715T", idempotency_key="c-1")


def test_a_reference_cannot_reach_another_path(fake, gateway):
    result = gateway.resume_payment(gateway_reference="../captures/X", idempotency_key="c-1")

    assert last_request(fake, "show_order").url.raw_path == b"/v2/checkout/orders/..%2Fcaptures%2FX"
    assert result.failure_code == "INVALID_RESOURCE_ID"


# --- Refunds --------------------------------------------------------------------------------------


def test_a_refund_is_asked_for_the_capture_with_its_amount_and_request_id(fake, gateway):
    order_id, capture_id = captured(fake, gateway)

    result = refund(gateway, order_id, capture_id)

    (refund_id,) = fake.refunds
    request = last_request(fake, "refund_capture")
    assert result == RefundResult(
        outcome=RefundOutcome.SUCCEEDED, gateway_reference=refund_id, amount_minor=250
    )
    assert request.url.path == f"/v2/payments/captures/{capture_id}/refund"
    assert json.loads(request.content) == {"amount": {"currency_code": "USD", "value": "2.50"}}
    assert request.headers["PayPal-Request-Id"] == "refund-41"
    assert request.headers["Prefer"] == "return=representation"
    assert fake.captures[capture_id][1]["status"] == "PARTIALLY_REFUNDED"


def test_a_refund_in_yen_goes_in_whole_yen(fake, gateway):
    order_id, capture_id = captured(fake, gateway, amount_minor=1500, currency="JPY")

    result = refund(gateway, order_id, capture_id, amount_minor=500, currency="JPY")

    assert fake.json_of("refund_capture") == {"amount": {"currency_code": "JPY", "value": "500"}}
    assert (result.outcome, result.amount_minor) == (RefundOutcome.SUCCEEDED, 500)


@pytest.mark.parametrize(
    ("status", "outcome", "message"),
    [
        ("PENDING", RefundOutcome.PENDING, ""),
        ("FAILED", RefundOutcome.FAILED, "PayPal's refund ended FAILED."),
        ("CANCELLED", RefundOutcome.FAILED, "PayPal's refund ended CANCELLED."),
    ],
)
def test_the_refund_status_decides(fake, gateway, status, outcome, message):
    order_id, capture_id = captured(fake, gateway)
    fake.refund_as(status)

    result = refund(gateway, order_id, capture_id)

    (refund_id,) = fake.refunds
    assert result == RefundResult(
        outcome=outcome, gateway_reference=refund_id, amount_minor=250, failure_message=message
    )


def test_too_large_a_refund_fails_with_paypal_issue(fake, gateway):
    order_id, capture_id = captured(fake, gateway)

    result = refund(gateway, order_id, capture_id, amount_minor=1251)

    assert result == RefundResult(
        outcome=RefundOutcome.FAILED,
        gateway_reference="",
        failure_message=f"REFUND_AMOUNT_EXCEEDED: {ISSUES['REFUND_AMOUNT_EXCEEDED']}",
    )
    assert fake.refunds == {}


def test_a_fully_refunded_capture_refuses_another_refund(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    whole = refund(gateway, order_id, capture_id, amount_minor=1250)

    again = refund(gateway, order_id, capture_id, amount_minor=100, key="refund-42")

    assert (whole.outcome, whole.amount_minor) == (RefundOutcome.SUCCEEDED, 1250)
    assert again == RefundResult(
        outcome=RefundOutcome.FAILED,
        gateway_reference="",
        failure_message=f"CAPTURE_FULLY_REFUNDED: {ISSUES['CAPTURE_FULLY_REFUNDED']}",
    )
    assert fake.captures[capture_id][1]["status"] == "REFUNDED"


def test_the_same_refund_key_gets_the_same_refund(fake, gateway):
    order_id, capture_id = captured(fake, gateway)

    first = refund(gateway, order_id, capture_id)
    again = refund(gateway, order_id, capture_id)
    other = refund(gateway, order_id, capture_id, key="refund-42")

    assert again == first
    assert other.gateway_reference != first.gateway_reference
    assert sorted(fake.refunds) == sorted([first.gateway_reference, other.gateway_reference])


def test_a_lost_refund_answer_is_recovered_with_the_same_key(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    fake.fail_next("refund_capture", timeout=True, performed=True)
    with pytest.raises(GatewayError):
        refund(gateway, order_id, capture_id)

    result = refund(gateway, order_id, capture_id)

    (refund_id,) = fake.refunds
    assert result == RefundResult(
        outcome=RefundOutcome.SUCCEEDED, gateway_reference=refund_id, amount_minor=250
    )


@pytest.mark.parametrize(
    "failure", [{"status": 500}, {"status": 503}, {"status": 409}, {"timeout": True}]
)
def test_failed_refund_calls_are_gateway_errors(fake, gateway, failure):
    order_id, capture_id = captured(fake, gateway)
    fake.fail_next("refund_capture", **failure)

    with pytest.raises(GatewayError):
        refund(gateway, order_id, capture_id)
    assert fake.refunds == {}


def test_a_refund_without_the_capture_finds_it_in_the_order(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    fake.operations.clear()

    result = refund(gateway, order_id, "")

    assert fake.operations == ["show_order", "refund_capture"]
    assert last_request(fake, "refund_capture").url.path == (
        f"/v2/payments/captures/{capture_id}/refund"
    )
    assert (result.outcome, result.amount_minor) == (RefundOutcome.SUCCEEDED, 250)


def test_a_refund_of_an_uncaptured_order_fails(fake, gateway):
    order_id = started(gateway)

    result = refund(gateway, order_id, "")

    assert result == RefundResult(
        outcome=RefundOutcome.FAILED,
        gateway_reference="",
        failure_message="PayPal holds no capture of this order to refund.",
    )
    assert "refund_capture" not in fake.operations


def test_the_refunds_of_a_payment_are_listed_with_amounts_and_states(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    done = refund(gateway, order_id, capture_id, amount_minor=250)
    fake.refund_as("PENDING")
    waiting = refund(gateway, order_id, capture_id, amount_minor=100, key="refund-42")
    fake.refund_as("FAILED")
    failed = refund(gateway, order_id, capture_id, amount_minor=300, key="refund-43")

    listed = gateway.refunds(gateway_reference=order_id, capture_reference=capture_id)
    fake.settle_refund(waiting.gateway_reference)
    settled = gateway.refunds(gateway_reference=order_id, capture_reference=capture_id)

    assert listed == [
        RefundResult(RefundOutcome.SUCCEEDED, done.gateway_reference, 250),
        RefundResult(RefundOutcome.PENDING, waiting.gateway_reference, 100),
        RefundResult(
            RefundOutcome.FAILED, failed.gateway_reference, 300, "PayPal's refund ended FAILED."
        ),
    ]
    assert settled[1] == RefundResult(RefundOutcome.SUCCEEDED, waiting.gateway_reference, 100)


def test_refunds_are_listed_from_the_capture_alone(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    done = refund(gateway, order_id, capture_id)
    fake.operations.clear()

    listed = gateway.refunds(gateway_reference="", capture_reference=capture_id)

    assert listed == [RefundResult(RefundOutcome.SUCCEEDED, done.gateway_reference, 250)]
    assert fake.operations == ["show_capture", "show_order"]


def test_a_payment_without_refunds_lists_none(fake, gateway):
    order_id, capture_id = captured(fake, gateway)

    assert gateway.refunds(gateway_reference=order_id, capture_reference=capture_id) == []


@pytest.mark.parametrize("failure", [{"status": 503}, {"status": 404}, {"timeout": True}])
def test_a_listing_paypal_cannot_give_is_a_gateway_error(fake, gateway, failure):
    order_id, capture_id = captured(fake, gateway)
    fake.fail_next("show_order", **failure)

    with pytest.raises(GatewayError):
        gateway.refunds(gateway_reference=order_id, capture_reference=capture_id)


# --- Webhooks: verification -------------------------------------------------------------------


def parse(gateway, delivery) -> WebhookEvent:
    return gateway.parse_webhook(headers=delivery["headers"], body=delivery["body"].encode())


def test_a_delivery_paypal_signed_is_verified_by_paypal_and_parsed(fake, gateway):
    order_id = started(gateway)
    delivery = fake.approve(order_id)

    event = parse(gateway, delivery)

    payload = json.loads(delivery["body"])
    request = last_request(fake, "verify_webhook")
    headers = delivery["headers"]
    assert event == WebhookEvent(
        event_id=payload["id"],
        event_type="CHECKOUT.ORDER.APPROVED",
        gateway_reference=order_id,
        kind=EventKind.PAYMENT_APPROVED,
        created=int(NOW),
    )
    assert json.loads(request.content) == {
        "auth_algo": "SHA256withRSA",
        "cert_url": fake.cert_url,
        "transmission_id": headers["PAYPAL-TRANSMISSION-ID"],
        "transmission_sig": headers["PAYPAL-TRANSMISSION-SIG"],
        "transmission_time": headers["PAYPAL-TRANSMISSION-TIME"],
        "webhook_id": fake.webhook_id,
        "webhook_event": payload,
    }
    assert request.content.endswith(b',"webhook_event":' + delivery["body"].encode() + b"}")
    assert request.headers["Authorization"].removeprefix("Bearer ") in fake.tokens


@pytest.mark.parametrize("case", [str.lower, str.title, str.upper])
def test_header_names_may_come_in_any_case(fake, gateway, case):
    order_id = started(gateway)
    delivery = fake.approve(order_id)

    event = gateway.parse_webhook(
        headers={case(name): value for name, value in delivery["headers"].items()},
        body=delivery["body"].encode(),
    )

    assert event.gateway_reference == order_id


def test_a_tampered_body_is_refused(fake, gateway):
    order_id = started(gateway)
    delivery = fake.approve(order_id)
    body = delivery["body"].replace('"12.50"', '"1.25"')

    with pytest.raises(WebhookRejected, match="did not verify"):
        gateway.parse_webhook(headers=delivery["headers"], body=body.encode())
    assert body != delivery["body"]
    assert fake.operations[-1] == "verify_webhook"


def test_the_same_event_in_other_bytes_is_not_what_paypal_signed(fake, gateway):
    delivery = fake.approve(started(gateway))
    reserialized = json.dumps(json.loads(delivery["body"]))

    with pytest.raises(WebhookRejected, match="did not verify"):
        gateway.parse_webhook(headers=delivery["headers"], body=reserialized.encode())
    assert json.loads(reserialized) == json.loads(delivery["body"])


@pytest.mark.parametrize(
    ("sent", "accepted"), [(-301, False), (-299, True), (59, True), (61, False)]
)
def test_the_transmission_time_must_be_recent(fake, gateway, sent, accepted):
    body = fake.approve(started(gateway))["body"]
    headers = fake.sign(body, at=NOW + sent)
    operations = len(fake.operations)

    if accepted:
        assert parse(gateway, {"body": body, "headers": headers}).kind == EventKind.PAYMENT_APPROVED
        assert fake.operations[operations:] == ["verify_webhook"]
    else:
        with pytest.raises(WebhookRejected, match="tolerance"):
            parse(gateway, {"body": body, "headers": headers})
        assert fake.operations[operations:] == []


@pytest.mark.parametrize("name", WEBHOOK_HEADERS)
@pytest.mark.parametrize("value", [None, "", "  "])
def test_a_missing_transmission_header_is_refused_without_asking_paypal(fake, gateway, name, value):
    delivery = fake.approve(started(gateway))
    headers = {key: item for key, item in delivery["headers"].items() if key != name}
    if value is not None:
        headers[name] = value
    operations = len(fake.operations)

    with pytest.raises(WebhookRejected, match=name):
        gateway.parse_webhook(headers=headers, body=delivery["body"].encode())
    assert fake.operations[operations:] == []


@pytest.mark.parametrize("sent", ["yesterday", "2026-11-29T22:53:20", "1796000000"])
def test_a_transmission_time_that_is_not_a_time_is_refused(fake, gateway, sent):
    delivery = fake.approve(started(gateway))

    with pytest.raises(WebhookRejected, match="not a time"):
        gateway.parse_webhook(
            headers={**delivery["headers"], "PAYPAL-TRANSMISSION-TIME": sent},
            body=delivery["body"].encode(),
        )


def test_a_gateway_with_another_webhook_id_refuses_the_delivery(fake, clock):
    gateway = fake.gateway(clock=clock, webhook_id="3XT45212VR441130K")
    delivery = fake.approve(started(gateway))

    with pytest.raises(WebhookRejected, match="did not verify"):
        parse(gateway, delivery)
    assert fake.json_of("verify_webhook")["webhook_id"] == "3XT45212VR441130K"


def test_a_delivery_signed_for_another_webhook_is_refused(fake, gateway):
    body = fake.approve(started(gateway))["body"]

    with pytest.raises(WebhookRejected, match="did not verify"):
        parse(gateway, {"body": body, "headers": fake.sign(body, webhook_id="3XT45212VR441130K")})


@pytest.mark.parametrize(
    "failure", [{"status": 503}, {"status": 400}, {"timeout": True}, {"status": 500}]
)
def test_a_verification_that_fails_refuses_the_delivery_for_paypal_to_retry(fake, gateway, failure):
    delivery = fake.approve(started(gateway))
    fake.fail_next("verify_webhook", **failure)

    with pytest.raises(WebhookRejected, match="could not verify"):
        parse(gateway, delivery)


def test_a_body_that_is_no_event_is_refused_before_asking_paypal(fake, gateway):
    body = b'{"id": "WH-1", "event_type": "CHECKOUT.ORDER.APPROVED"}'
    operations = len(fake.operations)

    with pytest.raises(WebhookRejected, match="not a PayPal event"):
        gateway.parse_webhook(headers=fake.sign(body), body=body)
    assert fake.operations[operations:] == []


def test_a_stored_body_is_parsed_without_paypal(fake, gateway):
    delivery = fake.approve(started(gateway))
    operations = len(fake.operations)

    event = gateway.event_from_stored_body(delivery["body"].encode())

    assert event.kind == EventKind.PAYMENT_APPROVED
    assert fake.operations[operations:] == []


# --- Webhooks: what each event means ---------------------------------------------------------


def stored(gateway, delivery) -> WebhookEvent:
    return gateway.event_from_stored_body(delivery["body"].encode())


def resigned(fake, delivery, change) -> dict:
    """The delivery with ``change`` applied to its resource, signed again by PayPal."""
    payload = json.loads(delivery["body"])
    change(payload["resource"])
    body = json.dumps(payload)
    return {"body": body, "headers": fake.sign(body)}


def test_a_completed_capture_is_a_succeeded_payment(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    delivery = fake.capture_completed_event(order_id)

    assert parse(gateway, delivery) == WebhookEvent(
        event_id=json.loads(delivery["body"])["id"],
        event_type="PAYMENT.CAPTURE.COMPLETED",
        gateway_reference=order_id,
        capture_reference=capture_id,
        kind=EventKind.PAYMENT_SUCCEEDED,
        created=int(NOW),
    )


def test_a_denied_capture_is_a_failed_payment(fake, gateway):
    order_id = started(gateway)
    fake.approve(order_id)
    fake.capture_as(order_id, "PENDING")
    pending = gateway.resume_payment(gateway_reference=order_id, idempotency_key="capture-41")
    delivery = fake.capture_denied_event(order_id)
    (capture_id,) = fake.captures

    assert pending.outcome == PaymentOutcome.PENDING
    assert parse(gateway, delivery) == WebhookEvent(
        event_id=json.loads(delivery["body"])["id"],
        event_type="PAYMENT.CAPTURE.DENIED",
        gateway_reference=order_id,
        capture_reference=capture_id,
        kind=EventKind.PAYMENT_FAILED,
        failure_code="DENIED",
        failure_message="Payment denied for 12.50 USD",
        created=int(NOW),
    )


def test_a_declined_capture_names_paypal_reason(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    resource = {**fake.capture_json(capture_id), "status": "DECLINED"}
    resource["status_details"] = {"reason": "DECLINED_BY_RISK_FRAUD_FILTERS"}
    delivery = fake.event(
        "PAYMENT.CAPTURE.DECLINED", resource, resource_type="capture", summary="Declined"
    )

    event = parse(gateway, delivery)

    assert (event.kind, event.gateway_reference, event.capture_reference) == (
        EventKind.PAYMENT_FAILED,
        order_id,
        capture_id,
    )
    assert (event.failure_code, event.failure_message) == (
        "DECLINED_BY_RISK_FRAUD_FILTERS",
        "Declined",
    )


@pytest.mark.parametrize("names_its_order", [False, True])
def test_a_refund_changes_the_refunds_of_its_capture(fake, gateway, names_its_order):
    order_id, capture_id = captured(fake, gateway)
    refund_id = refund(gateway, order_id, capture_id).gateway_reference
    delivery = fake.refunded_event(refund_id)
    if names_its_order:
        related = {"related_ids": {"order_id": order_id}}
        delivery = resigned(
            fake, delivery, lambda resource: resource.update(supplementary_data=related)
        )

    assert parse(gateway, delivery) == WebhookEvent(
        event_id=json.loads(delivery["body"])["id"],
        event_type="PAYMENT.CAPTURE.REFUNDED",
        gateway_reference=order_id if names_its_order else "",
        capture_reference=capture_id,
        kind=EventKind.REFUNDS_CHANGED,
        created=int(NOW),
    )


def test_a_reversal_changes_the_refunds_of_its_capture(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    delivery = fake.reversed_event(order_id)

    event = parse(gateway, delivery)

    assert (event.event_type, event.kind, event.capture_reference, event.gateway_reference) == (
        "PAYMENT.CAPTURE.REVERSED",
        EventKind.REFUNDS_CHANGED,
        capture_id,
        "",
    )
    assert gateway.refunds(gateway_reference=order_id, capture_reference=capture_id)[0] == (
        RefundResult(RefundOutcome.SUCCEEDED, next(iter(fake.refunds)), 1250)
    )


def test_a_refund_naming_no_capture_nor_order_is_not_acted_on(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    refund_id = refund(gateway, order_id, capture_id).gateway_reference

    def unlink(resource):
        resource["links"] = [link for link in resource["links"] if link["rel"] != "up"]

    event = parse(gateway, resigned(fake, fake.refunded_event(refund_id), unlink))

    assert (event.kind, event.capture_reference, event.gateway_reference) == (None, "", "")


def test_a_dispute_opened_on_a_capture(fake, gateway):
    order_id, capture_id = captured(fake, gateway)
    delivery = fake.dispute_created_event(order_id)
    dispute_id = json.loads(delivery["body"])["resource"]["dispute_id"]

    assert parse(gateway, delivery) == WebhookEvent(
        event_id=json.loads(delivery["body"])["id"],
        event_type="CUSTOMER.DISPUTE.CREATED",
        gateway_reference="",
        capture_reference=capture_id,
        kind=EventKind.DISPUTE_OPENED,
        failure_code="MERCHANDISE_OR_SERVICE_NOT_RECEIVED",
        failure_message=f"A new dispute opened with Case # {dispute_id}",
        amount_minor=1250,
        created=int(NOW),
    )


def test_a_dispute_naming_no_capture_is_not_acted_on(fake, gateway):
    order_id, _ = captured(fake, gateway)
    delivery = fake.dispute_created_event(order_id)

    def forget(resource):
        resource["disputed_transactions"] = []

    event = parse(gateway, resigned(fake, delivery, forget))

    assert (event.kind, event.capture_reference, event.amount_minor) == (None, "", None)


@pytest.mark.parametrize(
    "event_type",
    ["CHECKOUT.ORDER.COMPLETED", "PAYMENT.CAPTURE.PENDING", "CUSTOMER.DISPUTE.RESOLVED"],
)
def test_other_events_are_not_acted_on(fake, gateway, event_type):
    _, capture_id = captured(fake, gateway)
    delivery = fake.event(
        event_type, fake.capture_json(capture_id), resource_type="capture", summary="Other"
    )

    assert stored(gateway, delivery) == WebhookEvent(
        event_id=json.loads(delivery["body"])["id"],
        event_type=event_type,
        gateway_reference="",
        kind=None,
        created=int(NOW),
    )


def test_an_approval_without_its_order_is_refused(fake, gateway):
    delivery = fake.event(
        "CHECKOUT.ORDER.APPROVED",
        {"status": "APPROVED"},
        resource_type="checkout-order",
        summary="",
    )

    with pytest.raises(WebhookRejected, match="no id"):
        stored(gateway, delivery)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe{}",
        '{"id": "WH-1", "event_type": "X", "resource": {}}'.encode("utf-16"),
        '{"id": "WH-1", "event_type": "X", "resource": {}}'.encode("utf-8-sig"),
        b'{"id": "WH-1", "event_type": "X", "resource": {"id": "\xe9"}}',
        b"[]",
        b'"WH-1"',
        b'{"id": 1, "event_type": "X", "resource": {}}',
        b'{"id": "WH-1", "resource": {}}',
        b'{"id": "WH-1", "event_type": "X", "resource": []}',
        b'{"id": "", "event_type": "X", "resource": {}}',
        b'{"id": "WH-\\u0000", "event_type": "X", "resource": {}}',
        ('{"id": "WH-' + "1" * 120 + '", "event_type": "X", "resource": {}}').encode(),
    ],
)
def test_bodies_that_are_no_paypal_event_are_refused(gateway, body):
    with pytest.raises(WebhookRejected):
        gateway.event_from_stored_body(body)


def test_ids_in_the_fake_look_like_paypal_ids():
    ids = {paypal_id() for _ in range(50)}

    assert len(ids) == 50
    assert all(len(item) == 17 and item.isalnum() and item.isupper() for item in ids)


# --- Through the webhook endpoint -------------------------------------------------------------


def post_delivery(client, delivery):
    return client.generic(
        "POST",
        "/api/v1/payments/webhooks/paypal/",
        delivery["body"].encode(),
        content_type="application/json",
        headers=delivery["headers"],
    )


@pytest.mark.django_db
def test_a_delivery_reaches_the_gateway_through_django_headers(fake_paypal, api_client):
    order_id = started(registry.get_gateway("paypal"))
    delivery = fake_paypal.approve(order_id)
    tampered = {**delivery, "body": delivery["body"].replace(order_id, paypal_id())}

    accepted = post_delivery(api_client, delivery)
    refused = post_delivery(api_client, tampered)

    assert accepted.status_code == 200
    assert accepted.json()["event_id"] == json.loads(delivery["body"])["id"]
    assert (refused.status_code, refused.json()["code"]) == (400, "webhook_rejected")
    assert fake_paypal.operations.count("verify_webhook") == 2
