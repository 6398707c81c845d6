"""Reconciliation with the gateways: each gateway's statement of a day against the park's
records, over the sandbox, Stripe and PayPal (faked at the HTTP boundary), with every
difference made by a real inconsistency (docs/adr/0031)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.business.payments import services
from apps.business.payments.models import (
    GatewayStatement,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    StatementStatus,
)
from apps.integrations.models import SandboxLedgerEntry
from apps.integrations.payments import get_gateway
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.helpers import client_for, staff_member
from tests.integrations import stripe_fake
from tests.payments import test_gateway_scenarios as scenarios
from tests.sales import place_order

pytestmark = pytest.mark.django_db

# The scenario suite's gateway drivers and sale, under names of this module.
gateway = scenarios.driver
bought = scenarios.sale
stripe_on = stripe_fake.fake_stripe
ORDERS = scenarios.ORDERS
paid = scenarios.paid

REPORT = "/api/v1/payments/reports/reconciliation/"
FETCH = "/api/v1/payments/reports/reconciliation/fetch/"


def forget_payment(driver, payment: Payment) -> None:
    """The gateway has no record of the payment (as if it never took the money)."""
    if driver.name == "sandbox":
        SandboxLedgerEntry.objects.filter(reference=payment.gateway_reference).delete()
    elif driver.name == "stripe":
        driver.fake.intents.pop(payment.gateway_reference)
    else:
        driver.fake.captures.pop(payment.capture_reference)


def forget_refund(driver, refund: Refund) -> None:
    if driver.name == "sandbox":
        SandboxLedgerEntry.objects.filter(reference=refund.gateway_reference).delete()
    else:
        driver.fake.refunds.pop(refund.gateway_reference)


def refund(sale, amount: str) -> Refund:
    answer = client_for(staff_member(Role.FINANCE)).post(
        f"{ORDERS}{sale.order.pk}/refunds/", {"amount": amount}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    return Refund.objects.get(pk=answer.json()["id"])


def reconcile(day: date | None = None, *, fetch: bool = True) -> dict[str, Any]:
    day = day or timezone.localdate()
    finance = client_for(staff_member(Role.FINANCE))
    if fetch:
        answer = finance.post(FETCH, {"date": day.isoformat()}, format="json")
    else:
        answer = finance.get(REPORT, {"date": day.isoformat()})
    assert answer.status_code == 200, answer.json()
    return answer.json()


def only(report: dict[str, Any], gateway: str) -> dict[str, Any]:
    [found] = [entry for entry in report["gateways"] if entry["gateway"] == gateway]
    return found


def item(code: str, kind: str, order: str = "", **fields: Any) -> dict[str, Any]:
    return {
        "code": code,
        "kind": kind,
        "order": order,
        "gateway_reference": "",
        "capture_reference": "",
        "refund_reference": "",
        "gateway_amount": None,
        "park_amount": None,
        "currency": "CRC",
        "gateway_status": "",
        "park_status": "",
        "detail": "",
        **fields,
    }


def payment_refs(driver, payment: Payment) -> dict[str, str]:
    """The references a payment's item shows: the statement's, else the park's."""
    return {
        "gateway_reference": payment.gateway_reference,
        "capture_reference": payment.capture_reference,
    }


def test_a_clean_day_reconciles_with_no_difference(gateway, bought, api_client):
    payment = paid(gateway, bought, api_client)
    given_back = refund(bought, "2900.00")

    report = reconcile()

    found = only(report, gateway.name)
    code = bought.order.code
    assert report["differences_count"] == 0
    assert (found["statement_status"], found["error"], found["differences"]) == ("ok", "", [])
    totals = {"count": 1, "amount": "8700.00"}
    assert (found["gateway_payments"], found["park_payments"]) == (totals, totals)
    refunded = {"count": 1, "amount": "2900.00"}
    assert (found["gateway_refunds"], found["park_refunds"]) == (refunded, refunded)
    assert found["matched"] == [
        item(
            "",
            "payment",
            code,
            **payment_refs(gateway, payment),
            gateway_amount="8700.00",
            park_amount="8700.00",
            gateway_status="succeeded",
            park_status="partially_refunded/paid",
        ),
        item(
            "",
            "refund",
            code,
            **payment_refs(gateway, payment),
            refund_reference=given_back.gateway_reference,
            gateway_amount="2900.00",
            park_amount="2900.00",
            gateway_status="succeeded",
            park_status="succeeded",
        ),
    ]
    nothing = {"count": 0, "amount": "0.00"}
    assert report["counter"] == [
        {"method": method, "payments": nothing, "refunds": nothing}
        for method in ("cash", "card_present")
    ]
    # Fetched by finance: in the audit trail, with who asked.
    entry = AuditEvent.objects.filter(action="payments.statement.fetched").latest("sequence")
    assert entry.metadata["gateway"] == gateway.name
    assert entry.metadata["status"] == "ok"


def test_money_taken_by_the_gateway_that_the_park_lost(gateway, bought, api_client):
    """The gateway took the money; the park's second transaction never ran."""
    payment = paid(gateway, bought, api_client)
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PENDING, succeeded_at=None)
    Order.objects.filter(pk=bought.order.pk).update(status=OrderStatus.PENDING, paid_at=None)

    found = only(reconcile(), gateway.name)

    assert found["matched"] == []
    assert found["differences"] == [
        item(
            "paid_at_gateway_not_in_park",
            "payment",
            bought.order.code,
            **payment_refs(gateway, payment),
            gateway_amount="8700.00",
            park_amount="8700.00",
            gateway_status="succeeded",
            park_status="pending/pending",
        )
    ]
    assert found["gateway_payments"] == {"count": 1, "amount": "8700.00"}
    assert found["park_payments"] == {"count": 0, "amount": "0.00"}


def test_an_order_paid_in_the_park_that_the_gateway_does_not_state(gateway, bought, api_client):
    payment = paid(gateway, bought, api_client)
    forget_payment(gateway, payment)

    found = only(reconcile(), gateway.name)

    assert found["differences"] == [
        item(
            "paid_in_park_not_at_gateway",
            "payment",
            bought.order.code,
            **payment_refs(gateway, payment),
            park_amount="8700.00",
            park_status="succeeded/paid",
        )
    ]
    assert found["gateway_payments"] == {"count": 0, "amount": "0.00"}


def test_an_amount_recorded_otherwise(gateway, bought, api_client):
    payment = paid(gateway, bought, api_client)
    Payment.objects.filter(pk=payment.pk).update(amount=Decimal("8000.00"))

    found = only(reconcile(), gateway.name)

    assert [(d["code"], d["gateway_amount"], d["park_amount"]) for d in found["differences"]] == [
        ("amount_differs", "8700.00", "8000.00")
    ]


def test_a_refund_made_at_the_gateway_only(gateway, bought, api_client):
    payment = paid(gateway, bought, api_client)
    outside = get_gateway(gateway.name).refund(
        gateway_reference=payment.gateway_reference,
        capture_reference=payment.capture_reference,
        amount_minor=100000,
        currency="CRC",
        idempotency_key="refund-in-the-dashboard",
    )

    found = only(reconcile(), gateway.name)

    assert found["differences"] == [
        item(
            "refund_at_gateway_not_in_park",
            "refund",
            **{
                "gateway_reference": payment.gateway_reference if gateway.name != "paypal" else "",
                "capture_reference": payment.capture_reference,
            },
            refund_reference=outside.gateway_reference,
            gateway_amount="1000.00",
            gateway_status="succeeded",
        )
    ]
    assert found["gateway_refunds"] == {"count": 1, "amount": "1000.00"}
    assert found["park_refunds"] == {"count": 0, "amount": "0.00"}


def test_a_refund_the_park_recorded_that_the_gateway_does_not_state(gateway, bought, api_client):
    paid(gateway, bought, api_client)
    given_back = refund(bought, "2900.00")
    forget_refund(gateway, given_back)

    found = only(reconcile(), gateway.name)

    assert [
        (d["code"], d["order"], d["refund_reference"], d["park_amount"], d["park_status"])
        for d in found["differences"]
    ] == [
        (
            "refund_in_park_not_at_gateway",
            bought.order.code,
            given_back.gateway_reference,
            "2900.00",
            "succeeded",
        )
    ]


def test_a_day_never_fetched_and_a_gateway_that_fails(settings, stripe_on):
    """Stripe fails; the sandbox's statement is stored all the same."""
    settings.PAYMENT_GATEWAYS = ["sandbox", "stripe"]
    today = timezone.localdate()
    missing = reconcile(today, fetch=False)
    assert [
        (g["gateway"], g["statement_status"], g["differences"]) for g in missing["gateways"]
    ] == [
        ("sandbox", "missing", [item("statement_missing", "", currency="")]),
        ("stripe", "missing", [item("statement_missing", "", currency="")]),
    ]
    stripe_on.fail_next(status=500)

    report = reconcile(today)

    sandbox, stripe = only(report, "sandbox"), only(report, "stripe")
    assert (sandbox["statement_status"], sandbox["differences"]) == ("ok", [])
    error = "Stripe answered HTTP 500 (APIError): An unknown error occurred"
    assert (stripe["statement_status"], stripe["error"]) == ("failed", error)
    assert stripe["differences"] == [item("statement_failed", "", currency="", detail=error)]
    assert GatewayStatement.objects.get(gateway="stripe").status == StatementStatus.FAILED


def test_counter_payments_are_park_totals_only(settings, user):
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    order = place_order(
        user, TimeSlotFactory(capacity=5), TicketTypeFactory(price=Decimal(1500)), 2
    )
    services.order_pay(order=order, actor=staff_member(Role.TICKET_OFFICE), method="cash")

    report = reconcile()

    assert report["counter"][0] == {
        "method": "cash",
        "payments": {"count": 1, "amount": "3000.00"},
        "refunds": {"count": 0, "amount": "0.00"},
    }
    assert report["differences_count"] == 0
    assert [g["gateway"] for g in report["gateways"]] == ["sandbox"]


def test_the_day_is_the_parks_local_day(settings, monkeypatch, user):
    """Costa Rica is UTC-6: 23:30 there on the 29th is 05:30 UTC on the 30th."""
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    late = datetime(2026, 11, 30, 5, 30, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: late)
    order = place_order(
        user, TimeSlotFactory(capacity=5), TicketTypeFactory(price=Decimal(1500)), 1
    )
    services.order_pay(order=order, actor=user, method="sandbox")
    monkeypatch.setattr(timezone, "now", lambda: late + timedelta(days=2))

    services.statements_fetch(day=date(2026, 11, 29))
    services.statements_fetch(day=date(2026, 11, 30))

    day_of, next_day = GatewayStatement.objects.order_by("date")
    assert [line.amount for line in day_of.lines.all()] == [Decimal("1500.00")]
    assert next_day.lines.count() == 0
    assert only(reconcile(date(2026, 11, 29), fetch=False), "sandbox")["matched"][0]["order"] == (
        order.code
    )
    assert only(reconcile(date(2026, 11, 30), fetch=False), "sandbox")["differences"] == []


def test_fetching_a_day_again_replaces_its_lines(settings, user):
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    today = timezone.localdate()
    services.statements_fetch(day=today)
    order = place_order(
        user, TimeSlotFactory(capacity=5), TicketTypeFactory(price=Decimal(1500)), 1
    )
    services.order_pay(order=order, actor=user, method="sandbox")

    [statement] = services.statements_fetch(day=today)

    assert GatewayStatement.objects.count() == 1
    assert [line.reference for line in statement.lines.all()] == [
        order.payments.get().gateway_reference
    ]
