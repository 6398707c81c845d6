"""The whole story of a round-up: a family buys two tickets and rounds up for the turtles in one
order, pays once, then finance gives the gift back (only the gift). Campaign totals, the
donor's receipt and note, the invoice and its credit note, the reports, the reconciliation
with the gateway and the audit trail all tell the same story."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.donations.models import Donation, DonationStatus
from apps.business.invoicing.models import Invoice, InvoiceKind
from apps.business.payments.models import OrderLine, Refund
from apps.business.tickets.models import Ticket, TicketStatus
from apps.support.audit.models import AuditEvent
from apps.support.audit.selectors import audit_chain_first_break
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for, staff_member

from .conftest import CAMPAIGNS, ORDERS, donation_line

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/payments/reports/"


def test_two_tickets_and_a_gift_paid_once_then_the_gift_given_back(
    campaign, mailoutbox, django_capture_on_commit_callbacks
):
    family = UserFactory(first_name="Ana", last_name="Mora", email="mora@example.org")
    visitor, finance = client_for(family), client_for(staff_member(Role.FINANCE))
    auditor = client_for(staff_member(Role.AUDITOR))
    slot = TimeSlotFactory(capacity=20)
    adult = TicketTypeFactory(code="adult", name_es="Adulto", price=Decimal("2900.00"))
    today = timezone.localdate().isoformat()
    period = {"from": today, "to": today}

    # 1. One order: two adult tickets and a gift of 1,200 to the turtles.
    with django_capture_on_commit_callbacks(execute=True):
        created = visitor.post(
            ORDERS,
            {
                "lines": [
                    {"kind": "ticket", "slot": slot.pk, "ticket_type": adult.pk, "quantity": 2},
                    donation_line("1200.00", campaign, message="Por las tortugas"),
                ]
            },
            format="json",
        )
        assert created.status_code == 201, created.json()
        order_id = created.json()["id"]
        assert created.json()["total"] == "7000.00"
        paid = visitor.post(f"{ORDERS}{order_id}/pay/", {"gateway": "sandbox"}, format="json")
    assert (paid.status_code, paid.json()["status"]) == (200, "paid")
    assert [p["amount"] for p in paid.json()["payments"]] == ["7000.00"]
    donation = Donation.objects.get()
    assert Ticket.objects.filter(order_id=order_id, status=TicketStatus.VALID).count() == 2
    progress = client_for(None).get(f"{CAMPAIGNS}{campaign.pk}/").json()
    assert (progress["raised"], progress["donor_count"]) == ("1200.00", 1)
    assert [m.subject for m in mailoutbox if donation.receipt_number in m.subject] == [
        f"Gracias por su donación — recibo {donation.receipt_number}"
    ]
    invoice = Invoice.objects.get(order_id=order_id, kind=InvoiceKind.INVOICE)
    assert (invoice.total, invoice.tax) == (Decimal("7000.00"), Decimal("667.26"))

    # 2. Finance gives back the gift only.
    gift_line = OrderLine.objects.get(order_id=order_id, kind="donation")
    with django_capture_on_commit_callbacks(execute=True):
        refunded = finance.post(
            f"{ORDERS}{order_id}/refunds/",
            {"lines": [{"line": gift_line.pk, "quantity": 1}], "reason": "Donó dos veces"},
            format="json",
        )
    assert refunded.status_code == 201, refunded.json()
    assert (refunded.json()["status"], refunded.json()["amount"]) == ("succeeded", "1200.00")

    # The campaign, the gift, the tickets.
    campaign.refresh_from_db()
    assert (campaign.raised, campaign.donor_count, campaign.donation_count) == (
        Decimal("0.00"),
        0,
        0,
    )
    donation.refresh_from_db()
    assert donation.status == DonationStatus.REFUNDED
    assert Ticket.objects.filter(order_id=order_id, status=TicketStatus.VALID).count() == 2
    notes = [
        m
        for m in mailoutbox
        if m.subject == f"Su donación {donation.receipt_number} fue reembolsada"
    ]
    assert [m.to for m in notes] == [["mora@example.org"]]
    wall = client_for(None).get(f"{CAMPAIGNS}{campaign.pk}/donors/").json()
    assert (wall["count"], wall["results"]) == (0, [])

    # The credit note: the gift's 1,200 without VAT; the invoice unchanged.
    credit = Invoice.objects.get(order_id=order_id, kind=InvoiceKind.CREDIT_NOTE)
    assert (credit.total, credit.tax, credit.refers_to_id) == (
        Decimal("1200.00"),
        Decimal("0.00"),
        invoice.pk,
    )

    # The reports: gross sales of the day, the gift and its refund, the refund itself.
    sales = auditor.get(f"{REPORTS}sales/", {**period, "group_by": "ticket_type"}).json()
    assert [(row["key"], row["items"], row["gross"]) for row in sales["rows"]] == [
        (str(adult.pk), 2, "5800.00"),
        ("donation", 1, "1200.00"),
    ]
    assert sales["totals"] == {"orders": 1, "items": 3, "gross": "7000.00"}
    gifts = finance.get(f"{REPORTS}donations/", {**period, "group_by": "campaign"}).json()
    assert gifts["rows"] == [
        {
            "key": str(campaign.pk),
            "label": "Rescate de tortugas",
            "donations": 1,
            "donors": 1,
            "given": "1200.00",
            "refunded": "1200.00",
        }
    ]
    refunds = finance.get(f"{REPORTS}refunds/", {**period, "group_by": "gateway"}).json()
    assert [(row["key"], row["refunds"], row["amount"]) for row in refunds["rows"]] == [
        ("sandbox", 1, "1200.00")
    ]
    csv = finance.get(f"{REPORTS}donations/", {**period, "group_by": "campaign", "format": "csv"})
    assert csv.content.decode().splitlines() == [
        "key,label,donations,donors,given,refunded,currency",
        f"{campaign.pk},Rescate de tortugas,1,1,1200.00,1200.00,CRC",
    ]
    assert "mora" not in csv.content.decode()
    assert "Mora" not in str(gifts)

    # The gateway says what the park says.
    reconciliation = finance.post(
        f"{REPORTS}reconciliation/fetch/", {"date": today}, format="json"
    ).json()
    assert reconciliation["differences_count"] == 0
    [sandbox] = [g for g in reconciliation["gateways"] if g["gateway"] == "sandbox"]
    assert sandbox["gateway_payments"] == {"count": 1, "amount": "7000.00"}
    assert sandbox["gateway_refunds"] == {"count": 1, "amount": "1200.00"}

    # The audit trail: the order's story, in order, and the chain intact.
    story = list(
        AuditEvent.objects.filter(action__startswith="payments.")
        .exclude(action="payments.statement.fetched")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert story == [
        "payments.order.created",
        "payments.order.paid",
        "payments.refund.requested",
        "payments.refund.succeeded",
    ]
    refund = Refund.objects.get()
    requested = AuditEvent.objects.get(action="payments.refund.requested")
    assert requested.target_id == str(refund.pk)
    assert requested.metadata["lines"] == [{"line": gift_line.pk, "quantity": 1}]
    broken, _reason, checked = audit_chain_first_break()
    assert broken is None
    assert checked == AuditEvent.objects.count()
