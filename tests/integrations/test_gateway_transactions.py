"""``transactions()``: each gateway's statement of a time range, read through its fake at the
HTTP boundary (Stripe, PayPal) or from its own ledger (sandbox). docs/adr/0031."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.integrations.models import SandboxLedgerEntry
from apps.integrations.payments import (
    GatewayError,
    GatewayTransaction,
    PaymentRequest,
    TransactionKind,
    TransactionStatus,
)
from apps.integrations.payments.sandbox import SandboxGateway
from apps.integrations.payments.stripe import StripeGateway
from tests.integrations.paypal_fake import FakePayPal
from tests.integrations.stripe_fake import FakeStripe

START = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # midnight in Costa Rica
END = START + timedelta(days=1)
PAYMENT, REFUND = TransactionKind.PAYMENT, TransactionKind.REFUND
SUCCEEDED, PENDING, FAILED = (
    TransactionStatus.SUCCEEDED,
    TransactionStatus.PENDING,
    TransactionStatus.FAILED,
)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> int:
        return int(self.now)

    def at(self, moment: datetime) -> None:
        self.now = moment.timestamp()


# --- Stripe -----------------------------------------------------------------------------


def stripe_gateway(fake: FakeStripe) -> StripeGateway:
    return StripeGateway(
        secret_key=fake.secret_key,
        publishable_key=fake.publishable_key,
        webhook_secret=fake.webhook_secret,
        timeout=5.0,
        transport=fake.transport,
    )


def test_stripe_lists_the_intents_and_refunds_created_in_the_range():
    clock = Clock(START - timedelta(seconds=1))
    fake = FakeStripe(clock=clock)
    before = fake.create_intent(amount=1000, currency="crc")["id"]
    fake.confirm(before)
    clock.at(START)
    paid = fake.create_intent(amount=290000, currency="crc")["id"]
    fake.confirm(paid)
    declined = fake.create_intent(amount=5000, currency="crc")["id"]
    fake.fail(declined)
    waiting = fake.create_intent(amount=7000, currency="crc")["id"]
    clock.at(START + timedelta(hours=3))
    refund = fake.refund_in_dashboard(paid, 90000).event["data"]["object"]
    fake.refund_in_dashboard(before, 500)  # a refund of the day of an earlier payment
    clock.at(END)
    fake.confirm(fake.create_intent(amount=3000, currency="crc")["id"])  # the next day

    lines = stripe_gateway(fake).transactions(start=START, end=END)

    charge = fake.intents[paid]["latest_charge"]
    before_charge = fake.intents[before]["latest_charge"]
    refund_of_before = list(fake.refunds)[-1]
    assert lines == [
        GatewayTransaction(PAYMENT, paid, charge, "", 290000, "CRC", SUCCEEDED, START),
        GatewayTransaction(PAYMENT, declined, "", "", 5000, "CRC", FAILED, START),
        GatewayTransaction(PAYMENT, waiting, "", "", 7000, "CRC", PENDING, START),
        GatewayTransaction(
            REFUND, paid, charge, refund["id"], 90000, "CRC", SUCCEEDED, START + timedelta(hours=3)
        ),
        GatewayTransaction(
            REFUND,
            before,
            before_charge,
            refund_of_before,
            500,
            "CRC",
            SUCCEEDED,
            START + timedelta(hours=3),
        ),
    ]
    listed = [call for call in fake.calls if call.method == "GET"]
    assert [(call.path, call.params) for call in listed] == [
        (
            "/v1/payment_intents",
            {
                "created[gte]": str(int(START.timestamp())),
                "created[lt]": str(int(END.timestamp())),
                "limit": "100",
            },
        ),
        (
            "/v1/refunds",
            {
                "created[gte]": str(int(START.timestamp())),
                "created[lt]": str(int(END.timestamp())),
                "limit": "100",
            },
        ),
    ]
    fake.assert_no_unexpected_requests()


def test_stripe_pages_through_long_lists():
    fake = FakeStripe(clock=Clock(START + timedelta(hours=1)))
    for _ in range(105):
        fake.create_intent(amount=1000, currency="usd")

    lines = stripe_gateway(fake).transactions(start=START, end=END)

    assert len(lines) == 105
    assert {line.reference for line in lines} == set(fake.intents)
    pages = [call.params.get("starting_after") for call in fake.calls if call.method == "GET"]
    assert pages == [None, list(fake.intents)[5], None]  # newest first: the 6th made is 100th


def test_stripe_failing_to_list_is_a_gateway_error():
    fake = FakeStripe(clock=Clock(START))
    fake.fail_next(status=500)
    with pytest.raises(GatewayError, match="Stripe answered HTTP 500"):
        stripe_gateway(fake).transactions(start=START, end=END)


# --- PayPal -----------------------------------------------------------------------------


def paypal_payment(fake: FakePayPal, gateway, value: int, key: str) -> tuple[str, str]:
    started = gateway.start_payment(
        PaymentRequest(
            amount_minor=value,
            currency="USD",
            reference=key,
            description="Parque Marino",
            idempotency_key=key,
        )
    )
    fake.approve(started.gateway_reference)
    paid = gateway.resume_payment(
        gateway_reference=started.gateway_reference, idempotency_key=f"capture-{key}"
    )
    return paid.gateway_reference, paid.capture_reference


def test_paypal_lists_captures_and_refunds_by_capture_id_over_every_page():
    clock = Clock(START - timedelta(minutes=1))
    fake = FakePayPal(clock=clock)
    gateway = fake.gateway(clock=clock)
    _, earlier = paypal_payment(fake, gateway, 1000, "p-0")
    clock.at(START + timedelta(hours=2))
    _, first = paypal_payment(fake, gateway, 1250, "p-1")
    _, second = paypal_payment(fake, gateway, 4000, "p-2")
    refund = gateway.refund(
        gateway_reference="",
        capture_reference=first,
        amount_minor=250,
        currency="USD",
        idempotency_key="refund-1",
    )
    fake.search_page_size = 2

    lines = gateway.transactions(start=START, end=END)

    at = START + timedelta(hours=2)
    assert lines == sorted(
        [
            GatewayTransaction(PAYMENT, "", first, "", 1250, "USD", SUCCEEDED, at),
            GatewayTransaction(PAYMENT, "", second, "", 4000, "USD", SUCCEEDED, at),
            GatewayTransaction(
                REFUND, "", first, refund.gateway_reference, 250, "USD", SUCCEEDED, at
            ),
        ],
        key=lambda line: (line.occurred_at, line.reference),
    )
    assert earlier not in {line.capture_reference for line in lines}
    searches = [
        request.url.params
        for request, operation in zip(fake.requests, fake.operations, strict=True)
        if operation == "search_transactions"
    ]
    assert [dict(params) for params in searches] == [
        {
            "start_date": "2026-11-30T06:00:00Z",
            "end_date": "2026-12-01T06:00:00Z",
            "fields": "all",
            "page_size": "500",
            "page": str(page),
        }
        for page in (1, 2)
    ]


def test_paypal_without_the_reporting_permission_is_a_gateway_error():
    fake = FakePayPal(clock=Clock(START))
    fake.answer_next(
        "search_transactions",
        403,
        {
            "name": "NOT_AUTHORIZED",
            "message": "Authorization failed due to insufficient permissions.",
            "debug_id": "b1d1f06c7246c",
        },
    )
    with pytest.raises(GatewayError, match="Transaction Search permission"):
        fake.gateway().transactions(start=START, end=END)


def test_paypal_listing_something_unusable_is_a_gateway_error():
    fake = FakePayPal(clock=Clock(START))
    fake.answer_next(
        "search_transactions",
        200,
        {
            "transaction_details": [
                {"transaction_info": {"transaction_id": "X", "transaction_event_code": "T0006"}}
            ],
            "total_pages": 1,
        },
    )
    with pytest.raises(GatewayError, match="not one"):
        fake.gateway().transactions(start=START, end=END)


# --- Sandbox ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sandbox_states_what_its_ledger_holds(monkeypatch):
    sandbox = SandboxGateway(webhook_secret="whsec_test")
    monkeypatch.setattr(timezone, "now", lambda: START + timedelta(hours=1))

    def start(outcome: str, key: str, amount: int = 290000):
        return sandbox.start_payment(
            PaymentRequest(
                amount_minor=amount,
                currency="crc",
                reference=key,
                description="",
                idempotency_key=key,
                options={"outcome": outcome},
            )
        )

    paid = start("approve", "k-1")
    declined = start("decline", "k-2", 1000)
    waiting = start("later", "k-3", 5000)
    assert start("approve", "k-1").gateway_reference == paid.gateway_reference  # a retry
    refund = sandbox.refund(
        gateway_reference=paid.gateway_reference,
        capture_reference="",
        amount_minor=90000,
        currency="CRC",
        idempotency_key="refund-1",
    )
    again = sandbox.refund(
        gateway_reference=paid.gateway_reference,
        capture_reference="",
        amount_minor=90000,
        currency="CRC",
        idempotency_key="refund-1",
    )
    assert again == refund
    monkeypatch.setattr(timezone, "now", lambda: START + timedelta(hours=2))
    assert waiting.next_action is not None
    approve = waiting.next_action["approve"]
    sandbox.parse_webhook(headers=approve["headers"], body=approve["body"].encode())

    lines = sandbox.transactions(start=START, end=END)

    one, two = START + timedelta(hours=1), START + timedelta(hours=2)
    assert lines == [
        GatewayTransaction(PAYMENT, paid.gateway_reference, "", "", 290000, "CRC", SUCCEEDED, one),
        GatewayTransaction(PAYMENT, declined.gateway_reference, "", "", 1000, "CRC", FAILED, one),
        GatewayTransaction(
            REFUND,
            paid.gateway_reference,
            "",
            refund.gateway_reference,
            90000,
            "CRC",
            SUCCEEDED,
            one,
        ),
        GatewayTransaction(PAYMENT, waiting.gateway_reference, "", "", 5000, "CRC", SUCCEEDED, two),
    ]
    assert SandboxLedgerEntry.objects.count() == 4
    assert sandbox.transactions(start=END, end=END + timedelta(days=1)) == []
