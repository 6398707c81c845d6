"""The Stripe gateway against a fake Stripe at the HTTP transport (``stripe_fake.py`` here).

What the SDK sends (bodies, idempotency keys, API version), how every answer of Stripe maps onto
the protocol's outcomes, which failures are a refused refund and which an unknown outcome
(``GatewayError``), and what a webhook must be to be believed.
"""

import json
import time

import pytest
import stripe
from stripe._api_version import _ApiVersion

from apps.integrations.payments import registry
from apps.integrations.payments.base import (
    EventKind,
    GatewayError,
    PaymentOutcome,
    PaymentRequest,
    PaymentResult,
    RefundOutcome,
    RefundResult,
    WebhookEvent,
    WebhookRejected,
)
from apps.integrations.payments.stripe import STRIPE_API_VERSION, StripeGateway
from tests.integrations.stripe_fake import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    fake_stripe,  # noqa: F401 (a fixture)
    sign,
)

# stripe-python hands httpx its form body as ``data=<str>``, which httpx 0.28 deprecates.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Use 'content=<...>' to upload raw bytes/text content:DeprecationWarning"
)

NOW = 1_796_000_000  # the fake's clock: the "created" of what it makes
REFERENCE = "PM-7Q2X-41"
DESCRIPTION = "Parque Marino order PM-7Q2X"


def fake_id(prefix: str, number: int) -> str:
    return f"{prefix}_Fake{number:020d}"


PI_1, CH_1, RE_1 = fake_id("pi", 1), fake_id("ch", 1), fake_id("re", 1)
PENDING_ACTION = {
    "type": "stripe_confirm",
    "client_secret": f"{PI_1}_secret_Fake{1:020d}",
    "publishable_key": PUBLISHABLE_KEY,
}


# Failures after which whether Stripe did anything is unknown, and what the gateway says.
NO_USABLE_ANSWER = [
    ({"status": 500}, "Stripe answered HTTP 500 (APIError): An unknown error occurred"),
    ({"status": 502}, "Stripe answered HTTP 502 (APIError): An unknown error occurred"),
    ({"status": 503}, "Stripe answered HTTP 503 (APIError): An unknown error occurred"),
    (
        {"status": 429},
        "Stripe answered HTTP 429 (RateLimitError): Request rate limit exceeded. Learn more "
        "about rate limits here https://docs.stripe.com/rate-limits.",
    ),
    (
        {"status": 409},
        "Stripe answered HTTP 409 (APIError): There is currently another in-progress request "
        "using this idempotent key (that probably means you submitted twice, and the other "
        "request is still going through). Please try again later.",
    ),
    ({"timeout": True}, "Stripe could not be reached or did not answer in time."),
]


@pytest.fixture
def fake():
    fake = FakeStripe(clock=lambda: NOW)
    yield fake
    fake.assert_no_unexpected_requests()


def gateway_for(fake: FakeStripe, *, secret_key: str = SECRET_KEY) -> StripeGateway:
    return StripeGateway(
        secret_key=secret_key,
        publishable_key=fake.publishable_key,
        webhook_secret=fake.webhook_secret,
        timeout=7.5,
        transport=fake.transport,
    )


@pytest.fixture
def gateway(fake):
    return gateway_for(fake)


def start(gateway, *, amount=2900, currency="EUR", key="payment-41"):
    return gateway.start_payment(
        PaymentRequest(
            amount_minor=amount,
            currency=currency,
            reference=REFERENCE,
            description=DESCRIPTION,
            idempotency_key=key,
        )
    )


def refund(gateway, amount, *, key="refund-41-1", payment=PI_1, charge=""):
    return gateway.refund(
        gateway_reference=payment,
        capture_reference=charge,
        amount_minor=amount,
        currency="EUR",
        idempotency_key=key,
    )


@pytest.fixture
def paid(fake, gateway):
    """A payment of 29.00 EUR the buyer made: intent PI_1, charge CH_1."""
    start(gateway)
    fake.confirm(PI_1)
    fake.calls.clear()


# Starting a payment


def test_a_payment_is_one_intent_in_minor_units_with_the_attempts_key(fake, gateway):
    result = start(gateway)

    [call] = fake.calls
    assert (call.method, call.path) == ("POST", "/v1/payment_intents")
    assert call.params == {
        "amount": "2900",
        "currency": "eur",
        "automatic_payment_methods[enabled]": "true",
        "metadata[reference]": REFERENCE,
        "description": DESCRIPTION,
    }
    assert call.body == (
        "amount=2900&currency=eur&automatic_payment_methods[enabled]=true"
        "&metadata[reference]=PM-7Q2X-41&description=Parque+Marino+order+PM-7Q2X"
    )
    assert (
        call.headers["idempotency-key"],
        call.headers["stripe-version"],
        call.headers["authorization"],
        call.headers["content-type"],
    ) == (
        "payment-41",
        "2026-10-28.endive",
        f"Bearer {SECRET_KEY}",
        "application/x-www-form-urlencoded",
    )
    assert result == PaymentResult(
        outcome=PaymentOutcome.PENDING, gateway_reference=PI_1, next_action=PENDING_ACTION
    )
    assert fake.intents[PI_1]["client_secret"] == PENDING_ACTION["client_secret"]


@pytest.mark.parametrize(
    ("currency", "amount", "sent"),
    [("JPY", 3000, ("3000", "jpy")), ("usd", 1999, ("1999", "usd")), ("EUR", 50, ("50", "eur"))],
)
def test_the_amount_goes_in_minor_units_and_the_currency_in_lower_case(
    fake, gateway, currency, amount, sent
):
    start(gateway, amount=amount, currency=currency)

    assert (fake.calls[0].params["amount"], fake.calls[0].params["currency"]) == sent
    assert (fake.intents[PI_1]["amount"], fake.intents[PI_1]["currency"]) == (amount, sent[1])


def test_a_retry_with_the_same_key_gets_the_same_intent(fake, gateway):
    first = start(gateway)
    second = start(gateway)

    assert second == first
    assert list(fake.intents) == [PI_1]
    assert [call.headers["idempotency-key"] for call in fake.calls] == ["payment-41"] * 2


def test_another_attempt_with_its_own_key_is_another_intent(fake, gateway):
    first = start(gateway, key="payment-41")
    second = start(gateway, key="payment-42")

    assert (first.gateway_reference, second.gateway_reference) == (PI_1, fake_id("pi", 2))
    assert list(fake.intents) == [PI_1, fake_id("pi", 2)]


def test_an_answer_lost_after_stripe_made_the_intent_is_found_again_with_the_same_key(
    fake, gateway
):
    fake.fail_next(timeout=True, after=True)
    with pytest.raises(
        GatewayError, match=r"^Stripe could not be reached or did not answer in time\.$"
    ):
        start(gateway)
    assert list(fake.intents) == [PI_1]  # Stripe did make it

    result = start(gateway)

    assert result == PaymentResult(
        outcome=PaymentOutcome.PENDING, gateway_reference=PI_1, next_action=PENDING_ACTION
    )
    assert list(fake.intents) == [PI_1]


def test_the_same_key_for_another_amount_is_a_gateway_error(fake, gateway):
    start(gateway, amount=2900)

    with pytest.raises(GatewayError) as raised:
        start(gateway, amount=3100)

    assert str(raised.value) == (
        "Stripe answered HTTP 400 (IdempotencyError): Keys for idempotent requests can only be "
        "used with the same parameters they were first used with. Try using a key other than "
        "'payment-41' if you meant to execute a different request."
    )
    assert [intent["amount"] for intent in fake.intents.values()] == [2900]


def test_an_amount_below_stripes_minimum_is_declined_and_makes_no_intent(fake, gateway):
    result = start(gateway, amount=30)

    assert result == PaymentResult(
        outcome=PaymentOutcome.DECLINED,
        gateway_reference="",
        failure_code="amount_too_small",
        failure_message="Amount must be at least 50 eur (in the smallest currency unit).",
    )
    assert fake.intents == {}


@pytest.mark.parametrize(("failure", "message"), NO_USABLE_ANSWER)
def test_no_usable_answer_to_a_start_is_a_gateway_error(fake, gateway, failure, message):
    fake.fail_next(**failure)

    with pytest.raises(GatewayError) as raised:
        start(gateway)

    assert str(raised.value) == message
    assert fake.intents == {}
    assert len(fake.calls) == 1  # no retry inside the SDK: the caller retries with the key


def test_a_secret_key_stripe_does_not_take_is_a_gateway_error(fake):
    gateway = gateway_for(fake, secret_key="sk_test_revoked")

    with pytest.raises(GatewayError) as raised:
        start(gateway)

    assert str(raised.value) == (
        "Stripe answered HTTP 401 (AuthenticationError): Invalid API Key provided: sk_test_****0000"
    )
    assert fake.calls[0].headers["authorization"] == "Bearer sk_test_revoked"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            {"status": 200, "json": {"id": PI_1, "object": "payment_intent", "status": "paid"}},
            "Stripe answered a payment intent that is not one: unknown payment intent status "
            "'paid'.",
        ),
        (
            {"status": 200, "json": {"object": "payment_intent", "status": "succeeded"}},
            "Stripe answered a payment intent that is not one: 'id' is not a str.",
        ),
        (
            {"status": 200, "json": {"id": PI_1, "status": "requires_payment_method"}},
            "Stripe answered a payment intent that is not one: 'client_secret' is not a str.",
        ),
        (
            {"status": 502, "content": b"<html><body>Bad gateway</body></html>"},
            "Stripe answered HTTP 502 with no Stripe error.",
        ),
    ],
)
def test_an_answer_that_is_no_payment_intent_is_a_gateway_error(fake, gateway, answer, message):
    fake.answer_next(**answer)

    with pytest.raises(GatewayError) as raised:
        start(gateway)

    assert str(raised.value) == message


# Resuming a payment


def test_resuming_reads_the_intent_and_moves_no_money(fake, gateway):
    start(gateway)

    gateway.resume_payment(gateway_reference=PI_1, idempotency_key="payment-41")

    call = fake.calls[-1]
    assert (call.method, call.path, call.params, call.body) == (
        "GET",
        f"/v1/payment_intents/{PI_1}",
        {},
        "",
    )
    assert "idempotency-key" not in call.headers


@pytest.mark.parametrize(
    "status",
    [
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
        "requires_capture",
    ],
)
def test_an_intent_waiting_for_the_buyer_or_stripe_is_pending(fake, gateway, status):
    start(gateway)
    fake.set_status(PI_1, status)

    result = gateway.resume_payment(gateway_reference=PI_1, idempotency_key="payment-41")

    assert result == PaymentResult(
        outcome=PaymentOutcome.PENDING, gateway_reference=PI_1, next_action=PENDING_ACTION
    )


def test_a_succeeded_intent_is_paid_with_its_charge(fake, gateway):
    start(gateway)
    fake.confirm(PI_1)

    result = gateway.resume_payment(gateway_reference=PI_1, idempotency_key="payment-41")

    assert result == PaymentResult(
        outcome=PaymentOutcome.SUCCEEDED, gateway_reference=PI_1, capture_reference=CH_1
    )


def declined(fake):
    fake.fail(PI_1, decline_code="insufficient_funds")


def abandoned(fake):
    fake.cancel(PI_1, reason="abandoned")


def declined_then_canceled(fake):
    fake.fail(PI_1)
    fake.cancel(PI_1)


@pytest.mark.parametrize(
    ("happened", "code", "message"),
    [
        (declined, "card_declined", "Your card has insufficient funds."),
        (abandoned, "canceled", "Stripe canceled the payment (abandoned)."),
        (declined_then_canceled, "card_declined", "Your card was declined."),
    ],
)
def test_a_declined_or_canceled_intent_is_declined_with_stripes_reason(
    fake, gateway, happened, code, message
):
    start(gateway)
    happened(fake)

    result = gateway.resume_payment(gateway_reference=PI_1, idempotency_key="payment-41")

    assert result == PaymentResult(
        outcome=PaymentOutcome.DECLINED,
        gateway_reference=PI_1,
        failure_code=code,
        failure_message=message,
    )


def test_a_start_answered_with_a_succeeded_intent_is_paid(fake, gateway):
    fake.answer_next(200, fake.create_intent() | {"status": "succeeded", "latest_charge": CH_1})

    result = start(gateway)

    assert result == PaymentResult(
        outcome=PaymentOutcome.SUCCEEDED, gateway_reference=PI_1, capture_reference=CH_1
    )


def test_resuming_an_intent_stripe_does_not_know_is_a_gateway_error(fake, gateway):
    with pytest.raises(GatewayError) as raised:
        gateway.resume_payment(gateway_reference="pi_missing", idempotency_key="payment-41")

    assert str(raised.value) == (
        "Stripe answered HTTP 404 (InvalidRequestError): No such payment_intent: 'pi_missing'"
    )


def test_resuming_a_payment_stripe_never_started_asks_nothing(fake, gateway):
    with pytest.raises(GatewayError, match=r"^There is no Stripe payment intent to resume\.$"):
        gateway.resume_payment(gateway_reference="", idempotency_key="payment-41")

    assert fake.calls == []


# Refunds


def test_a_refund_is_asked_on_the_intent_in_minor_units_with_its_key(fake, gateway, paid):
    result = refund(gateway, 1000)

    [call] = fake.calls
    assert (call.method, call.path, call.params, call.headers["idempotency-key"]) == (
        "POST",
        "/v1/refunds",
        {"amount": "1000", "payment_intent": PI_1},
        "refund-41-1",
    )
    assert result == RefundResult(
        outcome=RefundOutcome.SUCCEEDED, gateway_reference=RE_1, amount_minor=1000
    )
    assert fake.charges[CH_1]["amount_refunded"] == 1000


def test_a_refund_is_asked_on_the_charge_when_only_the_charge_is_known(fake, gateway, paid):
    result = refund(gateway, 900, payment="", charge=CH_1)

    assert fake.calls[0].params == {"amount": "900", "charge": CH_1}
    assert (result.outcome, result.gateway_reference, result.amount_minor) == (
        RefundOutcome.SUCCEEDED,
        RE_1,
        900,
    )


@pytest.mark.parametrize("status", ["pending", "requires_action"])
def test_a_refund_stripe_has_not_finished_is_pending(fake, gateway, paid, status):
    fake.refunds_start_as = status

    result = refund(gateway, 1000)

    assert result == RefundResult(
        outcome=RefundOutcome.PENDING, gateway_reference=RE_1, amount_minor=1000
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"status": "failed", "failure_reason": "expired_or_canceled_card"},
            "expired_or_canceled_card",
        ),
        ({"status": "canceled"}, "Stripe says the refund canceled."),
    ],
)
def test_a_refund_stripe_answers_failed_or_canceled_failed(fake, gateway, paid, changes, message):
    refund(gateway, 1000)
    fake.answer_next(200, fake.refunds[RE_1] | changes)

    result = refund(gateway, 1000, key="refund-41-2")

    assert result == RefundResult(
        outcome=RefundOutcome.FAILED,
        gateway_reference=RE_1,
        amount_minor=1000,
        failure_message=message,
    )


@pytest.mark.parametrize(
    ("before", "amount", "payment", "message"),
    [
        (0, 3000, PI_1, "Refund amount (3000) is greater than unrefunded amount on charge (2900)."),
        (2900, 100, PI_1, f"Charge {CH_1} has already been refunded."),
        (0, 100, "pi_missing", "No such payment_intent: 'pi_missing'"),
    ],
)
def test_a_refund_stripe_refuses_failed_and_moved_no_money(
    fake, gateway, paid, before, amount, payment, message
):
    if before:
        refund(gateway, before, key="refund-41-0")
    refunds_before = dict(fake.refunds)

    result = refund(gateway, amount, payment=payment)

    assert result == RefundResult(
        outcome=RefundOutcome.FAILED, gateway_reference="", failure_message=message
    )
    assert fake.refunds == refunds_before


def test_a_refund_of_a_payment_not_made_fails(fake, gateway):
    start(gateway)

    result = refund(gateway, 1000)

    assert result == RefundResult(
        outcome=RefundOutcome.FAILED,
        gateway_reference="",
        failure_message=f"This PaymentIntent ({PI_1}) does not have a successful charge to refund.",
    )


@pytest.mark.parametrize(("failure", "message"), NO_USABLE_ANSWER)
def test_a_refund_without_a_usable_answer_is_a_gateway_error(fake, gateway, paid, failure, message):
    fake.fail_next(**failure)

    with pytest.raises(GatewayError) as raised:
        refund(gateway, 1000)

    assert str(raised.value) == message
    assert fake.refunds == {}


def test_a_refund_with_a_key_stripe_does_not_take_is_a_gateway_error(fake, paid):
    with pytest.raises(GatewayError, match=r"^Stripe answered HTTP 401 \(AuthenticationError\)"):
        refund(gateway_for(fake, secret_key="sk_test_revoked"), 1000)

    assert fake.refunds == {}


def test_a_refund_whose_answer_was_lost_is_found_again_with_the_same_key(fake, gateway, paid):
    fake.fail_next(timeout=True, after=True)
    with pytest.raises(GatewayError):
        refund(gateway, 1000)

    result = refund(gateway, 1000)

    assert result == RefundResult(
        outcome=RefundOutcome.SUCCEEDED, gateway_reference=RE_1, amount_minor=1000
    )
    assert list(fake.refunds) == [RE_1]
    assert fake.charges[CH_1]["amount_refunded"] == 1000  # refunded once


def test_the_same_refund_key_for_another_amount_is_a_gateway_error(fake, gateway, paid):
    refund(gateway, 1000)

    with pytest.raises(GatewayError, match=r"^Stripe answered HTTP 400 \(IdempotencyError\)"):
        refund(gateway, 1500)

    assert [item["amount"] for item in fake.refunds.values()] == [1000]


def test_a_refund_in_a_status_stripe_never_gives_is_a_gateway_error(fake, gateway, paid):
    fake.answer_next(200, {"id": RE_1, "object": "refund", "amount": 1000, "status": "reversed"})

    with pytest.raises(GatewayError) as raised:
        refund(gateway, 1000)

    assert str(raised.value) == (
        "Stripe answered a refund that is not one: unknown refund status 'reversed'."
    )


# Listing refunds


def test_every_refund_is_listed_page_after_page(fake, gateway):
    fake.create_intent(amount=30000)
    fake.confirm(PI_1)
    for _ in range(205):
        fake.refund_in_dashboard(PI_1, 100)

    listed = gateway.refunds(gateway_reference=PI_1, capture_reference=CH_1)

    assert listed == [
        RefundResult(
            outcome=RefundOutcome.SUCCEEDED, gateway_reference=fake_id("re", n), amount_minor=100
        )
        for n in range(205, 0, -1)  # newest first, as Stripe lists them
    ]
    assert [(call.method, call.path, call.params) for call in fake.calls] == [
        ("GET", "/v1/refunds", {"limit": "100", "payment_intent": PI_1}),
        (
            "GET",
            "/v1/refunds",
            {"limit": "100", "payment_intent": PI_1, "starting_after": fake_id("re", 106)},
        ),
        (
            "GET",
            "/v1/refunds",
            {"limit": "100", "payment_intent": PI_1, "starting_after": fake_id("re", 6)},
        ),
    ]


def test_listed_refunds_carry_their_states(fake, gateway, paid):
    refund(gateway, 500, key="refund-1")
    fake.refunds_start_as = "pending"
    refund(gateway, 700, key="refund-2")
    refund(gateway, 300, key="refund-3")
    fake.settle_refund(fake_id("re", 2), "failed", failure_reason="lost_or_stolen_card")
    fake.refunds_start_as = "requires_action"
    refund(gateway, 200, key="refund-4")
    fake.settle_refund(fake_id("re", 4), "canceled", failure_reason="")

    listed = gateway.refunds(gateway_reference=PI_1, capture_reference=CH_1)

    assert listed == [
        RefundResult(
            RefundOutcome.FAILED, fake_id("re", 4), 200, "Stripe says the refund canceled."
        ),
        RefundResult(RefundOutcome.PENDING, fake_id("re", 3), 300),
        RefundResult(RefundOutcome.FAILED, fake_id("re", 2), 700, "lost_or_stolen_card"),
        RefundResult(RefundOutcome.SUCCEEDED, fake_id("re", 1), 500),
    ]


def test_refunds_are_listed_by_charge_when_only_the_charge_is_known(fake, gateway, paid):
    refund(gateway, 500)
    fake.calls.clear()

    listed = gateway.refunds(gateway_reference="", capture_reference=CH_1)

    assert fake.calls[0].params == {"limit": "100", "charge": CH_1}
    assert listed == [RefundResult(RefundOutcome.SUCCEEDED, RE_1, 500)]


def test_a_payment_without_refunds_lists_none(fake, gateway, paid):
    assert gateway.refunds(gateway_reference=PI_1, capture_reference=CH_1) == []
    assert gateway.refunds(gateway_reference="", capture_reference="") == []
    assert len(fake.calls) == 1  # nothing to ask about a payment without references


def test_a_page_that_fails_fails_the_listing(fake, gateway):
    fake.create_intent(amount=30000)
    fake.confirm(PI_1)
    for _ in range(101):
        fake.refund_in_dashboard(PI_1, 100)
    first_page = list(reversed(fake.refunds.values()))[:100]
    fake.answer_next(
        200, {"object": "list", "data": first_page, "has_more": True, "url": "/v1/refunds"}
    )
    fake.fail_next(status=500)  # the second page

    with pytest.raises(GatewayError, match=r"^Stripe answered HTTP 500 \(APIError\)"):
        gateway.refunds(gateway_reference=PI_1, capture_reference=CH_1)


# Webhook signatures


def delivery_of_a_payment(fake):
    fake.create_intent()
    return fake.confirm(PI_1)


def succeeded_event(delivery) -> WebhookEvent:
    return WebhookEvent(
        event_id=delivery.event["id"],
        event_type="payment_intent.succeeded",
        gateway_reference=PI_1,
        kind=EventKind.PAYMENT_SUCCEEDED,
        capture_reference=CH_1,
        created=NOW,
    )


@pytest.mark.parametrize("name", ["Stripe-Signature", "stripe-signature", "STRIPE-SIGNATURE"])
def test_a_signed_delivery_is_believed_whatever_the_headers_case(fake, gateway, name):
    delivery = delivery_of_a_payment(fake)
    [signature] = delivery.headers.values()

    event = gateway.parse_webhook(headers={name: signature}, body=delivery.body)

    assert event == succeeded_event(delivery)
    assert event.event_id == fake_id("evt", 3)  # created, charge.succeeded, then this one


def test_a_delivery_signed_within_five_minutes_is_believed(fake, gateway):
    delivery = delivery_of_a_payment(fake)
    late = fake.deliver(delivery.event, timestamp=int(time.time()) - 290)

    assert gateway.parse_webhook(headers=late.headers, body=late.body) == succeeded_event(delivery)


def test_a_delivery_signed_with_the_new_and_the_old_secret_is_believed(fake, gateway):
    """While an endpoint's secret is rolled, Stripe signs with both: one v1 must match."""
    delivery = delivery_of_a_payment(fake)
    timestamp = int(time.time())
    old = sign(delivery.body, secret="whsec_old", timestamp=timestamp).split(",")[1]
    header = f"{delivery.headers['Stripe-Signature']},{old}"

    event = gateway.parse_webhook(headers={"Stripe-Signature": header}, body=delivery.body)

    assert event == succeeded_event(delivery)


def _rejections():
    def stale(fake, delivery):
        old = fake.deliver(delivery.event, timestamp=int(time.time()) - 301)
        return old.headers, old.body

    def another_secret(fake, delivery):
        other = fake.deliver(delivery.event, secret="whsec_AnotherEndpoint")
        return other.headers, other.body

    def body_changed(fake, delivery):
        return delivery.headers, delivery.body.replace(b'"amount": 2900', b'"amount": 29')

    def bad_signature(fake, delivery):
        t, v1 = delivery.headers["Stripe-Signature"].split(",")
        flipped = v1[:-1] + ("0" if v1[-1] != "0" else "1")
        return {"Stripe-Signature": f"{t},{flipped}"}, delivery.body

    def header(value):
        return lambda fake, delivery: ({"Stripe-Signature": value}, delivery.body)

    now = int(time.time())
    return {
        "stale": (stale, "Timestamp outside the tolerance zone"),
        "another secret": (another_secret, "No signatures found matching"),
        "body changed": (body_changed, "No signatures found matching"),
        "bad signature": (bad_signature, "No signatures found matching"),
        "missing": (lambda fake, delivery: ({}, delivery.body), "No Stripe-Signature header"),
        "empty": (header(""), "No Stripe-Signature header"),
        "no timestamp": (header("v1=" + "0" * 64), "Unable to extract timestamp"),
        "bad timestamp": (header("t=yesterday,v1=" + "0" * 64), "Unable to extract timestamp"),
        "no v1": (header(f"t={now}"), "No signatures found with expected scheme v1"),
        "v0 only": (header(f"t={now},v0=" + "0" * 64), "No signatures found with expected scheme"),
        "not ascii": (header(f"t={now},v1=éé"), "Malformed signature header"),
    }


@pytest.mark.parametrize(("tamper", "reason"), _rejections().values(), ids=_rejections().keys())
def test_a_delivery_whose_signature_does_not_check_out_is_rejected(fake, gateway, tamper, reason):
    headers, body = tamper(fake, delivery_of_a_payment(fake))

    with pytest.raises(WebhookRejected, match=reason):
        gateway.parse_webhook(headers=headers, body=body)


def test_a_delivery_signed_by_the_secret_but_not_utf8_is_rejected(fake, gateway):
    body = json.dumps(delivery_of_a_payment(fake).event).encode("utf-16")
    headers = {"Stripe-Signature": sign(body, secret=WEBHOOK_SECRET, timestamp=int(time.time()))}

    with pytest.raises(WebhookRejected, match=r"^The body is not UTF-8\.$"):
        gateway.parse_webhook(headers=headers, body=body)


def test_a_stored_body_is_parsed_again_without_its_signature(fake, gateway):
    """Replays read the raw body stored when it was verified, long after five minutes."""
    delivery = delivery_of_a_payment(fake)

    assert gateway.event_from_stored_body(delivery.body) == succeeded_event(delivery)


# What each event means


def parsed(gateway, delivery):
    return gateway.parse_webhook(headers=delivery.headers, body=delivery.body)


def test_a_failed_payment_event_carries_the_decline(fake, gateway):
    fake.create_intent()
    delivery = fake.fail(PI_1)

    assert parsed(gateway, delivery) == WebhookEvent(
        event_id=delivery.event["id"],
        event_type="payment_intent.payment_failed",
        gateway_reference=PI_1,
        kind=EventKind.PAYMENT_FAILED,
        failure_code="card_declined",
        failure_message="Your card was declined.",
        created=NOW,
    )


@pytest.mark.parametrize(
    "event_type",
    [
        "refund.created",
        "charge.refunded",
        "refund.updated",
        "refund.failed",
        "charge.refund.updated",
    ],
)
def test_refund_events_name_the_payment_to_reconcile(fake, gateway, event_type):
    fake.create_intent()
    fake.confirm(PI_1)
    fake.refunds_start_as = "pending"
    fake.refund_in_dashboard(PI_1, 1000)
    fake.settle_refund(RE_1, "failed")
    fake.event("charge.refund.updated", fake.refunds[RE_1])
    [event] = fake.events_of_type(event_type)

    assert parsed(gateway, fake.deliver(event)) == WebhookEvent(
        event_id=event["id"],
        event_type=event_type,
        gateway_reference=PI_1,
        kind=EventKind.REFUNDS_CHANGED,
        capture_reference=CH_1,
        created=NOW,
    )


def test_a_dispute_names_the_payment_its_charge_and_its_amount(fake, gateway):
    fake.create_intent()
    fake.confirm(PI_1)
    delivery = fake.dispute(PI_1, amount=1500)

    assert parsed(gateway, delivery) == WebhookEvent(
        event_id=delivery.event["id"],
        event_type="charge.dispute.created",
        gateway_reference=PI_1,
        kind=EventKind.DISPUTE_OPENED,
        capture_reference=CH_1,
        amount_minor=1500,
        created=NOW,
    )


def test_a_dispute_of_a_charge_without_intent_names_the_charge_only(fake, gateway):
    fake.create_intent()
    fake.confirm(PI_1)
    dispute = fake.dispute(PI_1).event["data"]["object"] | {"payment_intent": None}
    delivery = fake.deliver(fake.event("charge.dispute.created", dispute))

    event = parsed(gateway, delivery)

    assert (event.kind, event.gateway_reference, event.capture_reference, event.amount_minor) == (
        EventKind.DISPUTE_OPENED,
        "",
        CH_1,
        2900,
    )


def test_an_expanded_reference_counts_by_its_id(fake, gateway):
    fake.create_intent()
    fake.confirm(PI_1)
    fake.refund_in_dashboard(PI_1, 1000)
    expanded = fake.refunds[RE_1] | {"payment_intent": fake.intents[PI_1]}
    delivery = fake.deliver(fake.event("refund.updated", expanded))

    assert parsed(gateway, delivery).gateway_reference == PI_1


@pytest.mark.parametrize(
    ("event_type", "obj", "reference"),
    [
        ("payment_intent.created", "intent", PI_1),
        ("payment_intent.canceled", "intent", PI_1),
        ("charge.succeeded", "charge", PI_1),
        ("customer.created", "customer", ""),
    ],
)
def test_other_events_are_parsed_and_not_acted_on(fake, gateway, event_type, obj, reference):
    fake.create_intent()
    fake.confirm(PI_1)
    obj = {
        "intent": fake.intents[PI_1],
        "charge": fake.charges[CH_1],
        "customer": {"id": "cus_Fake1", "object": "customer", "email": None},
    }[obj]
    delivery = fake.deliver(fake.event(event_type, obj))

    assert parsed(gateway, delivery) == WebhookEvent(
        event_id=delivery.event["id"],
        event_type=event_type,
        gateway_reference=reference,
        kind=None,
        created=NOW,
    )


def _not_events():
    def event(**changes):
        base = {
            "id": "evt_Fake1",
            "object": "event",
            "api_version": STRIPE_API_VERSION,
            "created": NOW,
            "data": {"object": {"id": PI_1, "object": "payment_intent", "latest_charge": CH_1}},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "payment_intent.succeeded",
        }
        return json.dumps(base | changes).encode()

    charge = {"id": CH_1, "object": "charge", "payment_intent": PI_1}
    return {
        "latin-1": event().replace(b"evt_Fake1", "évt_1".encode("latin-1")),
        "utf-16": event().decode().encode("utf-16"),
        "not json": b"payment_intent.succeeded",
        "an array": b"[]",
        "a list": json.dumps({"object": "list", "data": [], "has_more": False}).encode(),
        "a thin event": event(object="v2.core.event"),
        "no id": event(id=None),
        "a number for an id": event(id=42),
        "an id too long": event(id="evt_" + "x" * 117),
        "no type": event(type=None),
        "no created": event(created=None),
        "created as text": event(created="1796000000"),
        "created as a bool": event(created=True),
        "no data": event(data=None),
        "no object": event(data={"object": None}),
        "the wrong object": event(data={"object": charge}),
        "a number for a charge": event(
            data={"object": {"id": PI_1, "object": "payment_intent", "latest_charge": 7}}
        ),
        "NaN": event().replace(b'"pending_webhooks": 1', b'"pending_webhooks": NaN'),
        "a lone surrogate": event(
            type="payment_intent.payment_failed",
            data={
                "object": {
                    "id": PI_1,
                    "object": "payment_intent",
                    "last_payment_error": {"code": "card_declined", "message": "\ud800"},
                }
            },
        ),
    }


@pytest.mark.parametrize("body", _not_events().values(), ids=_not_events().keys())
def test_a_body_that_is_no_stripe_event_is_rejected(gateway, body):
    with pytest.raises(WebhookRejected):
        gateway.event_from_stored_body(body)


def test_the_bodies_refused_differ_from_a_good_one_only_where_named(gateway):
    """The refusals above are for what they name: the same body unchanged is believed."""
    good = _not_events()["no id"].replace(b'"id": null', b'"id": "evt_Fake1"', 1)

    assert gateway.event_from_stored_body(good) == WebhookEvent(
        event_id="evt_Fake1",
        event_type="payment_intent.succeeded",
        gateway_reference=PI_1,
        kind=EventKind.PAYMENT_SUCCEEDED,
        capture_reference=CH_1,
        created=NOW,
    )


# Settings, version, the fake itself


def test_the_public_config_is_the_publishable_key_only(gateway):
    assert gateway.public_config() == {"publishable_key": PUBLISHABLE_KEY}


def test_from_settings_takes_the_keys_and_the_timeout(settings, fake):
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_FromSettings"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PAYMENTS_GATEWAY_TIMEOUT = 3.5
    gateway = StripeGateway.from_settings(transport=fake.transport)

    start(gateway)
    delivery = fake.confirm(PI_1)

    assert fake.calls[0].headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert fake.calls[0].timeout == {"connect": 3.5, "read": 3.5, "write": 3.5, "pool": 3.5}
    assert gateway.public_config() == {"publishable_key": "pk_test_FromSettings"}
    assert parsed(gateway, delivery).kind == EventKind.PAYMENT_SUCCEEDED


def test_the_pinned_api_version_is_the_one_the_sdk_is_generated_for():
    """Upgrading stripe-python means checking the recorded shapes and moving the pin."""
    assert STRIPE_API_VERSION == _ApiVersion.CURRENT == "2026-10-28.endive"


def test_the_fake_stripe_fixture_switches_the_gateway_on(fake_stripe):  # noqa: F811
    assert registry.enabled_gateways()[-1] == "stripe"
    gateway = registry.get_gateway("stripe")
    assert isinstance(gateway, StripeGateway)

    result = start(gateway)
    delivery = fake_stripe.confirm(result.gateway_reference)

    assert list(fake_stripe.intents) == [result.gateway_reference]
    assert gateway.public_config() == {"publishable_key": PUBLISHABLE_KEY}
    assert parsed(gateway, delivery).kind == EventKind.PAYMENT_SUCCEEDED


def test_the_fake_answers_nothing_it_does_not_know(fake, gateway):
    with pytest.raises(stripe.APIConnectionError):
        gateway.client.v1.customers.list()

    assert fake.unexpected == ["GET https://api.stripe.com/v1/customers"]
    fake.unexpected.clear()


def test_the_fake_signs_as_stripes_sdk_does():
    body = b'{"id": "evt_1", "object": "event"}'

    assert sign(body, secret=WEBHOOK_SECRET, timestamp=NOW) == (
        stripe.WebhookSignature.generate_signature_header(body.decode(), WEBHOOK_SECRET, NOW)
    )
