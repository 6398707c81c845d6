"""A paid order gets exactly one invoice, numbered without gaps, after the payment commits."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import override_settings

from apps.business.invoicing import services
from apps.business.invoicing.models import Invoice, InvoiceCounter
from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Channel
from apps.support.audit.models import AuditEvent
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.helpers import staff_member
from tests.invoicing.helpers import announce_paid, buy
from tests.sales import place_order

pytestmark = pytest.mark.django_db

PARK = ZoneInfo("America/Costa_Rica")


def test_a_paid_order_gets_one_invoice_with_exact_amounts(
    visitor, slot, adult, child, year, django_capture_on_commit_callbacks
):
    order = buy(visitor, (slot, adult, 2), (slot, child, 1))
    with django_capture_on_commit_callbacks(execute=True):
        announce_paid(order)

    invoice = Invoice.objects.get()
    adult_line, child_line = order.lines.order_by("id")
    assert (invoice.kind, invoice.series, invoice.year, invoice.sequence) == (
        "invoice",
        "PM",
        year,
        1,
    )
    assert invoice.number == f"PM-{year}-000001"
    assert (invoice.order, invoice.refund, invoice.refers_to) == (order, None, None)
    assert invoice.lines == [
        {
            "description": adult_line.description,
            "quantity": 2,
            "unit_price": "2900.00",
            # 5800 - 5800 / 1.13 = 667.2566 -> 667.26
            "net": "5132.74",
            "tax": "667.26",
            "total": "5800.00",
        },
        {
            "description": child_line.description,
            "quantity": 1,
            "unit_price": "1450.00",
            # 1450 - 1450 / 1.13 = 166.8142 -> 166.81
            "net": "1283.19",
            "tax": "166.81",
            "total": "1450.00",
        },
    ]
    assert (invoice.net, invoice.tax, invoice.total) == (
        Decimal("6415.93"),
        Decimal("834.07"),
        Decimal("7250.00"),
    )
    assert invoice.total == order.total
    assert (invoice.currency, invoice.tax_rate) == ("CRC", Decimal("0.1300"))
    assert (
        invoice.seller_legal_name,
        invoice.seller_tax_id,
        invoice.seller_address,
        invoice.seller_email,
    ) == (
        "Parque Marino del Pacífico S.A.",
        "3-101-000000",
        "Paseo de los Turistas, Puntarenas, Costa Rica",
        "facturacion@parquemarino.example",
    )
    assert (invoice.buyer_name, invoice.buyer_email, invoice.buyer_tax_id) == (
        "Ada Lovelace",
        "ada@example.org",
        "",
    )
    assert order.paid_at is not None
    assert invoice.issued_at >= order.paid_at
    assert InvoiceCounter.objects.get(series="PM", year=year).last == 1
    event = AuditEvent.objects.get(action="invoicing.invoice.issued")
    assert (event.actor_label, event.target_type, event.target_id) == (
        "system",
        "invoicing.invoice",
        str(invoice.pk),
    )
    assert event.metadata == {
        "number": f"PM-{year}-000001",
        "order": order.code,
        "total": "7250.00",
        "tax": "834.07",
        "currency": "CRC",
    }


def test_paying_through_payments_issues_the_invoice_once(
    visitor, slot, adult, year, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(visitor, (slot, adult, 1))
    invoice = Invoice.objects.get()
    assert (invoice.order, invoice.number, invoice.total) == (
        order,
        f"PM-{year}-000001",
        Decimal("2900.00"),
    )
    # Payment confirmed again (a webhook after the answer): still one invoice.
    with django_capture_on_commit_callbacks(execute=True):
        announce_paid(order)
    assert Invoice.objects.count() == 1


def test_the_invoice_waits_for_the_payment_to_commit(
    visitor, slot, adult, django_capture_on_commit_callbacks
):
    order = buy(visitor, (slot, adult, 1))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        announce_paid(order)
        assert Invoice.objects.exists() is False  # nothing inside the paying transaction
    assert len(callbacks) == 1
    callbacks[0]()
    assert Invoice.objects.get().order == order


def test_a_payment_that_rolls_back_issues_nothing(
    visitor, slot, adult, django_capture_on_commit_callbacks
):
    order = buy(visitor, (slot, adult, 1))

    def pay_then_fail() -> None:
        with transaction.atomic():
            announce_paid(order)
            raise RuntimeError("the paying transaction failed after the signal")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        pay_then_fail()
    assert callbacks == []
    assert Invoice.objects.exists() is False
    assert InvoiceCounter.objects.exists() is False


def test_announcing_a_payment_again_keeps_the_one_invoice(
    visitor, slot, adult, django_capture_on_commit_callbacks
):
    order = buy(visitor, (slot, adult, 1))
    with django_capture_on_commit_callbacks(execute=True):
        announce_paid(order)
        announce_paid(order)
    first = Invoice.objects.get()
    assert services.invoice_issue(order_id=order.pk) == first
    assert Invoice.objects.count() == 1
    assert InvoiceCounter.objects.get().last == 1
    assert AuditEvent.objects.filter(action="invoicing.invoice.issued").count() == 1


def test_an_issue_that_fails_does_not_fail_the_payment(
    visitor, slot, adult, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    """The payment has committed: a task that fails (run eagerly, or not queued because the
    broker is down) is logged, and the sweep issues the invoice later."""

    def broker_down(**kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(services, "invoice_issue", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(visitor, (slot, adult, 1))
    assert order.status == "paid"
    assert Invoice.objects.exists() is False
    assert "broker down" in caplog.text
    monkeypatch.undo()
    assert services.invoices_issue_missing().invoices == 1
    assert Invoice.objects.get().order == order


def test_an_unpaid_order_has_no_invoice_and_takes_no_number(visitor, slot, adult, year):
    unpaid = place_order(visitor, slot, adult)
    with pytest.raises(ConflictError) as refused:
        services.invoice_issue(order_id=unpaid.pk)
    assert refused.value.code == "order_not_paid"
    assert Invoice.objects.exists() is False
    paid = buy(visitor, (slot, adult, 1))
    assert services.invoice_issue(order_id=paid.pk).number == f"PM-{year}-000001"


def test_a_number_taken_by_a_transaction_that_rolls_back_is_given_again(
    visitor, slot, adult, year, monkeypatch
):
    first, second = buy(visitor, (slot, adult, 1)), buy(visitor, (slot, adult, 1))
    record = services.audit.record

    def audit_fails(**kwargs):
        raise RuntimeError("the audit entry could not be written")

    monkeypatch.setattr(services.audit, "record", audit_fails)
    with pytest.raises(RuntimeError):
        services.invoice_issue(order_id=first.pk)
    monkeypatch.setattr(services.audit, "record", record)
    assert services.invoice_issue(order_id=second.pk).number == f"PM-{year}-000001"
    assert services.invoice_issue(order_id=first.pk).number == f"PM-{year}-000002"
    assert InvoiceCounter.objects.get().last == 2


def test_each_year_numbers_from_one_in_the_park_s_time_zone(visitor, slot, adult):
    orders = [buy(visitor, (slot, adult, 1)) for _ in range(4)]
    moments = [
        datetime.datetime(2026, 12, 31, 23, 58, tzinfo=PARK),
        # 03:00 UTC on New Year's day is still 2026 in Costa Rica (UTC-6).
        datetime.datetime(2027, 1, 1, 3, 0, tzinfo=datetime.UTC),
        datetime.datetime(2027, 1, 1, 0, 0, 30, tzinfo=PARK),
        datetime.datetime(2027, 1, 2, 9, 0, tzinfo=PARK),
    ]
    numbers = [
        services.invoice_issue(order_id=order.pk, now=moment).number
        for order, moment in zip(orders, moments, strict=True)
    ]
    assert numbers == ["PM-2026-000001", "PM-2026-000002", "PM-2027-000001", "PM-2027-000002"]
    assert sorted(InvoiceCounter.objects.values_list("series", "year", "last")) == [
        ("PM", 2026, 2),
        ("PM", 2027, 2),
    ]


@override_settings(INVOICE_SERIES="FA", TAX_RATE=Decimal("0.04"))
def test_series_and_tax_rate_come_from_the_settings(visitor, slot, adult, year):
    invoice = services.invoice_issue(order_id=buy(visitor, (slot, adult, 1)).pk)
    # 2900 - 2900 / 1.04 = 111.5385 -> 111.54
    assert (invoice.number, invoice.tax_rate, invoice.tax, invoice.net) == (
        f"FA-{year}-000001",
        Decimal("0.0400"),
        Decimal("111.54"),
        Decimal("2788.46"),
    )


def test_a_counter_sale_to_nobody_named_has_an_anonymous_buyer(slot, adult):
    office = staff_member(Role.TICKET_OFFICE)
    order = payments.order_create(
        actor=office,
        lines=[
            LineRequest(
                kind="ticket", quantity=1, fields={"slot": slot.pk, "ticket_type": adult.pk}
            )
        ],
        channel=Channel.COUNTER,
    )
    payments.order_pay(order=order, actor=office, method="cash")
    invoice = services.invoice_issue(order_id=order.pk)
    assert (invoice.buyer_name, invoice.buyer_email, invoice.buyer_tax_id) == ("", "", "")


def test_a_visitor_without_a_name_is_named_by_email(slot, adult):
    from tests.factories import UserFactory

    nameless = UserFactory(email="nemo@example.org", first_name="", last_name="")
    invoice = services.invoice_issue(order_id=buy(nameless, (slot, adult, 1)).pk)
    assert (invoice.buyer_name, invoice.buyer_email) == ("nemo@example.org", "nemo@example.org")


def test_what_the_invoice_printed_stays_when_the_order_s_buyer_and_settings_change(
    visitor, slot, adult
):
    invoice = services.invoice_issue(order_id=buy(visitor, (slot, adult, 1)).pk)
    visitor.first_name, visitor.email = "Augusta", "augusta@example.org"
    visitor.save()
    with override_settings(SELLER_LEGAL_NAME="Otra S.A.", TAX_RATE=Decimal("0.10")):
        again = services.invoice_issue(order_id=invoice.order_id)
    assert again == invoice
    again.refresh_from_db()
    assert (again.buyer_name, again.seller_legal_name, again.tax) == (
        "Ada Lovelace",
        "Parque Marino del Pacífico S.A.",
        Decimal("333.63"),
    )
