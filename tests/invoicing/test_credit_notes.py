"""A succeeded refund gets one credit note, in its own series, referring to the order's
invoice. The rules are tested on refund rows made here, with ``refund_succeeded`` sent as
payments sends it (the contract), and end to end through payments' refund service."""

import logging
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.business.invoicing import services
from apps.business.invoicing.models import Invoice
from apps.business.payments import services as payments
from apps.business.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundScope,
    RefundStatus,
)
from apps.support.audit.models import AuditEvent
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.helpers import staff_member
from tests.invoicing.helpers import announce_paid, announce_refunded, buy, refund_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoiced(visitor, slot, adult, child, django_capture_on_commit_callbacks):
    """A paid order of two adults and a child, and its invoice (7250.00, tax 834.07)."""
    order = buy(visitor, (slot, adult, 2), (slot, child, 1))
    with django_capture_on_commit_callbacks(execute=True):
        announce_paid(order)
    return Invoice.objects.get(order=order)


def credit(refund: Refund, capture) -> Invoice:
    with capture(execute=True):
        announce_refunded(refund)
    return Invoice.objects.get(refund=refund)


def test_a_refund_gets_a_credit_note_referring_to_the_invoice(
    invoiced, year, django_capture_on_commit_callbacks
):
    refund = refund_of(invoiced.order, Decimal("2900.00"))
    credit_note = credit(refund, django_capture_on_commit_callbacks)

    assert (credit_note.kind, credit_note.number) == ("credit_note", f"PMNC-{year}-000001")
    assert (credit_note.order, credit_note.refund, credit_note.refers_to) == (
        invoiced.order,
        refund,
        invoiced,
    )
    # Positive amounts: the kind says they are given back.
    assert credit_note.lines == [
        {
            "description": "Reembolso",
            "quantity": 1,
            "unit_price": "2900.00",
            "net": "2566.37",
            "tax": "333.63",
            "total": "2900.00",
        }
    ]
    assert (credit_note.net, credit_note.tax, credit_note.total) == (
        Decimal("2566.37"),
        Decimal("333.63"),
        Decimal("2900.00"),
    )
    assert (credit_note.buyer_name, credit_note.buyer_email) == ("Ada Lovelace", "ada@example.org")
    event = AuditEvent.objects.get(action="invoicing.credit_note.issued")
    assert event.metadata == {
        "number": f"PMNC-{year}-000001",
        "refers_to": invoiced.number,
        "order": invoiced.order.code,
        "refund": refund.pk,
        "total": "2900.00",
        "tax": "333.63",
        "currency": "CRC",
    }
    # The invoice's series goes on by itself.
    assert Invoice.objects.filter(kind="invoice").get() == invoiced


def test_a_whole_refund_gives_back_the_invoice_s_lines_and_tax_to_the_cent(
    invoiced, django_capture_on_commit_callbacks
):
    credit_note = credit(
        refund_of(invoiced.order, Decimal("7250.00")), django_capture_on_commit_callbacks
    )
    assert credit_note.lines == invoiced.lines
    assert (credit_note.net, credit_note.tax, credit_note.total) == (
        invoiced.net,
        invoiced.tax,
        invoiced.total,
    )


def test_a_refund_of_some_tickets_credits_their_lines(invoiced, django_capture_on_commit_callbacks):
    adult_line, child_line = invoiced.order.lines.order_by("id")
    refund = refund_of(
        invoiced.order,
        Decimal("4350.00"),
        scope=RefundScope.LINES,
        lines=[{"line": adult_line.pk, "quantity": 1}, {"line": child_line.pk, "quantity": 1}],
    )
    credit_note = credit(refund, django_capture_on_commit_callbacks)
    assert credit_note.lines == [
        {
            "description": adult_line.description,
            "quantity": 1,
            "unit_price": "2900.00",
            "net": "2566.37",
            "tax": "333.63",
            "total": "2900.00",
        },
        {
            "description": child_line.description,
            "quantity": 1,
            "unit_price": "1450.00",
            "net": "1283.19",
            "tax": "166.81",
            "total": "1450.00",
        },
    ]
    assert (credit_note.tax, credit_note.total) == (Decimal("500.44"), Decimal("4350.00"))


@pytest.mark.parametrize(
    "lines",
    [
        [{"line": "first", "quantity": 1}],  # the adults' line, for 2900.00 of the 1450.00
        [{"line": "first", "quantity": 3}],  # more than the line holds
        [{"line": 0, "quantity": 1}],  # not a line of the order
        [{"quantity": 1}],
    ],
)
def test_refund_lines_that_do_not_make_its_amount_give_one_line_of_the_amount(
    invoiced, django_capture_on_commit_callbacks, caplog, lines
):
    first = invoiced.order.lines.order_by("id").first()
    lines = [{**item, "line": first.pk} if item.get("line") == "first" else item for item in lines]
    refund = refund_of(invoiced.order, Decimal("1450.00"), scope=RefundScope.LINES, lines=lines)
    with caplog.at_level(logging.WARNING, logger="apps.business.invoicing.services"):
        credit_note = credit(refund, django_capture_on_commit_callbacks)
    assert [(line["description"], line["total"]) for line in credit_note.lines] == [
        ("Reembolso", "1450.00")
    ]
    assert f"Refund {refund.pk} names lines" in caplog.text


def test_a_second_partial_refund_gets_a_second_credit_note(
    invoiced, year, django_capture_on_commit_callbacks
):
    first = credit(
        refund_of(invoiced.order, Decimal("1450.00")), django_capture_on_commit_callbacks
    )
    # The rest of the order: not the whole invoice, so not its lines.
    second = credit(
        refund_of(invoiced.order, Decimal("5800.00")), django_capture_on_commit_callbacks
    )
    assert [first.number, second.number] == [f"PMNC-{year}-000001", f"PMNC-{year}-000002"]
    assert second.refers_to == invoiced
    assert [(line["description"], line["tax"]) for line in second.lines] == [
        ("Reembolso", "667.26")
    ]


def test_announcing_a_refund_again_keeps_the_one_credit_note(
    invoiced, django_capture_on_commit_callbacks
):
    refund = refund_of(invoiced.order, Decimal("1450.00"))
    with django_capture_on_commit_callbacks(execute=True):
        announce_refunded(refund)
        announce_refunded(refund)
    assert services.credit_note_issue(refund_id=refund.pk) == Invoice.objects.get(refund=refund)
    assert Invoice.objects.filter(kind="credit_note").count() == 1
    assert AuditEvent.objects.filter(action="invoicing.credit_note.issued").count() == 1


def test_a_refund_of_an_order_without_its_invoice_issues_the_invoice_first(
    visitor, slot, adult, year, django_capture_on_commit_callbacks
):
    order = buy(visitor, (slot, adult, 1))  # its invoice task was lost
    credit_note = credit(refund_of(order, Decimal("2900.00")), django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get(order=order, kind="invoice")
    assert (invoice.number, credit_note.number) == (f"PM-{year}-000001", f"PMNC-{year}-000001")
    assert credit_note.refers_to == invoice
    assert credit_note.lines == invoice.lines  # the whole of it
    assert list(
        AuditEvent.objects.filter(action__startswith="invoicing.")
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == ["invoicing.invoice.issued", "invoicing.credit_note.issued"]


def test_a_credit_note_gives_back_the_tax_rate_its_invoice_charged(
    invoiced, django_capture_on_commit_callbacks
):
    with override_settings(TAX_RATE=Decimal("0.10")):
        credit_note = credit(
            refund_of(invoiced.order, Decimal("1450.00")), django_capture_on_commit_callbacks
        )
    assert (credit_note.tax_rate, credit_note.tax) == (Decimal("0.1300"), Decimal("166.81"))


def test_money_back_for_a_payment_that_never_paid_the_order_has_no_credit_note(
    invoiced, django_capture_on_commit_callbacks
):
    """A second payment of a paid order is captured and refunded at once, as unfulfillable:
    it never paid for anything the invoice holds."""
    first = invoiced.order.payments.get()
    second = Payment.objects.create(
        order=invoiced.order,
        method=first.method,
        amount=first.amount,
        currency="CRC",
        status=PaymentStatus.REFUNDED,
        gateway_reference="sbx_pay_second",
        succeeded_at=timezone.now(),
        created_by=first.created_by,
    )
    unfulfillable = Refund.objects.create(
        payment=second,
        amount=second.amount,
        currency="CRC",
        status=RefundStatus.SUCCEEDED,
        scope=RefundScope.UNFULFILLABLE,
    )
    with django_capture_on_commit_callbacks(execute=True):
        announce_refunded(unfulfillable)
    assert services.credit_note_issue(refund_id=unfulfillable.pk) is None
    assert Invoice.objects.filter(kind="credit_note").exists() is False
    assert services.invoices_issue_missing().credit_notes == 0


@pytest.mark.parametrize("status", [RefundStatus.PENDING, RefundStatus.FAILED])
def test_a_refund_the_gateway_has_not_confirmed_has_no_credit_note(invoiced, status):
    refund = refund_of(invoiced.order, Decimal("1450.00"), status=status)
    with pytest.raises(ConflictError) as refused:
        services.credit_note_issue(refund_id=refund.pk)
    assert refused.value.code == "refund_not_succeeded"
    assert services.invoices_issue_missing().credit_notes == 0
    assert Invoice.objects.filter(kind="credit_note").exists() is False


# --- Through payments' own services ---------------------------------------------------------


def test_finance_refunding_tickets_gets_a_credit_note_of_their_lines(
    visitor, slot, adult, child, year, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(visitor, (slot, adult, 2), (slot, child, 1))
    adult_line = order.lines.order_by("id").first()
    with django_capture_on_commit_callbacks(execute=True):
        refund = payments.refund_request(
            order=order,
            actor=staff_member(Role.FINANCE),
            lines=[payments.LineRefund(line=adult_line.pk, quantity=1)],
        )
    assert refund.status == RefundStatus.SUCCEEDED
    invoice = Invoice.objects.get(order=order, kind="invoice")
    credit_note = Invoice.objects.get(refund=refund)
    assert (invoice.number, credit_note.number, credit_note.refers_to) == (
        f"PM-{year}-000001",
        f"PMNC-{year}-000001",
        invoice,
    )
    assert [(line["quantity"], line["total"], line["tax"]) for line in credit_note.lines] == [
        (1, "2900.00", "333.63")
    ]


def test_cancelling_a_paid_order_gives_back_its_whole_invoice(
    visitor, slot, adult, child, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = buy(visitor, (slot, adult, 2), (slot, child, 1))
    with django_capture_on_commit_callbacks(execute=True):
        payments.order_cancel(order=order, actor=staff_member(Role.TICKET_OFFICE))
    invoice = Invoice.objects.get(order=order, kind="invoice")
    credit_note = Invoice.objects.get(order=order, kind="credit_note")
    assert credit_note.refers_to == invoice
    assert (credit_note.lines, credit_note.tax, credit_note.total) == (
        invoice.lines,
        invoice.tax,
        invoice.total,
    )
