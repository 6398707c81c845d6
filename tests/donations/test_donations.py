"""Donations as order lines: alone or beside tickets, counted on their campaign once paid,
given back by a refund, refused with a clear error when the campaign or amount is wrong."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.donations.models import Campaign, Donation, DonationStatus
from apps.business.invoicing.models import Invoice, InvoiceKind
from apps.business.payments.models import Order, OrderLine, OrderStatus
from apps.business.tickets.models import Ticket, TicketStatus
from apps.support.audit.models import AuditEvent
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for
from tests.sales import run_out_hold

from .conftest import CAMPAIGNS, DONATIONS, ORDERS, donation_line, give, make_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def donor():
    return UserFactory(first_name="Ana", last_name="Mora", email="ana@example.org")


def test_a_paid_donation_counts_on_its_campaign_and_is_receipted(
    campaign, donor, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(donor)

    with django_capture_on_commit_callbacks(execute=True):
        order = give(client, donation_line("5000.00", campaign, message="¡Ánimo!"))

    assert (order["status"], order["total"]) == ("paid", "5000.00")
    assert [line["kind"] for line in order["lines"]] == ["donation"]
    donation = Donation.objects.get()
    assert order["lines"][0]["reference"] == {"campaign": campaign.pk, "donation": donation.pk}
    assert (donation.status, donation.amount, donation.donor, donation.donor_name) == (
        DonationStatus.PAID,
        Decimal("5000.00"),
        donor,
        "Ana Mora",
    )
    assert (donation.message, donation.email, donation.anonymous) == (
        "¡Ánimo!",
        "ana@example.org",
        False,
    )
    campaign.refresh_from_db()
    assert (campaign.raised, campaign.donor_count, campaign.donation_count) == (
        Decimal("5000.00"),
        1,
        1,
    )
    public = client_for(None).get(f"{CAMPAIGNS}{campaign.pk}/").json()
    assert (public["raised"], public["donor_count"], public["percentage"]) == ("5000.00", 1, "0.5")
    assert public["days_left"] == 30
    assert public["is_open"] is True

    receipts = [m for m in mailoutbox if donation.receipt_number in m.subject]
    assert len(receipts) == 1
    assert receipts[0].to == ["ana@example.org"]
    name, content, mimetype = receipts[0].attachments[0]
    assert (name, mimetype) == (f"{donation.receipt_number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF-")
    donation.refresh_from_db()
    assert donation.receipt_sent_at is not None

    pdf = client.get(f"{DONATIONS}{donation.pk}/receipt/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    listed = client.get(DONATIONS).json()
    assert [(row["id"], row["status"], row["amount"]) for row in listed["results"]] == [
        (donation.pk, "paid", "5000.00")
    ]
    actions = list(
        AuditEvent.objects.filter(target_type="payments.order", target_id=str(order["id"]))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["payments.order.created", "payments.order.paid"]
    created = AuditEvent.objects.get(action="payments.order.created")
    # The donor's message and name live on the donation, not in the order's entry.
    assert created.metadata["lines"] == [
        {"campaign": campaign.pk, "donation": donation.pk, "quantity": 1}
    ]


def test_a_donation_beside_tickets_is_paid_once_and_invoiced_without_vat(
    campaign, donor, django_capture_on_commit_callbacks
):
    slot = TimeSlotFactory(capacity=10)
    adult = TicketTypeFactory(code="adult", price=Decimal("2900.00"))

    with django_capture_on_commit_callbacks(execute=True):
        order = give(
            client_for(donor),
            {"slot": slot.pk, "ticket_type": adult.pk, "quantity": 2},
            donation_line("1200.00", campaign),
        )

    assert (order["status"], order["total"]) == ("paid", "7000.00")
    assert len(order["payments"]) == 1
    assert order["payments"][0]["amount"] == "7000.00"
    assert Ticket.objects.filter(order_id=order["id"], status=TicketStatus.VALID).count() == 2
    invoice = Invoice.objects.get(order_id=order["id"], kind=InvoiceKind.INVOICE)
    taxes = {line["description"]: (line["total"], line["tax"]) for line in invoice.lines}
    assert taxes[f"Donación: {campaign.title_es}"] == ("1200.00", "0.00")
    assert invoice.total == Decimal("7000.00")
    # 13 % VAT inside the two tickets only: 5800 - 5800 / 1.13.
    assert invoice.tax == Decimal("667.26")


def test_refunding_the_donation_line_gives_it_back_and_lowers_the_campaign(
    campaign, donor, finance_client, mailoutbox, django_capture_on_commit_callbacks
):
    slot = TimeSlotFactory(capacity=10)
    adult = TicketTypeFactory(code="adult", price=Decimal("2900.00"))
    with django_capture_on_commit_callbacks(execute=True):
        order = give(
            client_for(donor),
            {"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1},
            donation_line("3000.00", campaign),
        )
    gift_line = OrderLine.objects.get(order_id=order["id"], kind="donation")
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        refund = finance_client.post(
            f"{ORDERS}{order['id']}/refunds/",
            {"lines": [{"line": gift_line.pk, "quantity": 1}]},
            format="json",
        )

    assert refund.status_code == 201, refund.json()
    assert (refund.json()["status"], refund.json()["amount"]) == ("succeeded", "3000.00")
    donation = Donation.objects.get()
    assert donation.status == DonationStatus.REFUNDED
    assert donation.refunded_at is not None
    campaign.refresh_from_db()
    assert (campaign.raised, campaign.donor_count, campaign.donation_count) == (
        Decimal("0.00"),
        0,
        0,
    )
    assert Ticket.objects.get(order_id=order["id"]).status == TicketStatus.VALID
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.PAID
    notes = [m for m in mailoutbox if donation.receipt_number in m.subject]
    assert len(notes) == 1
    assert "void" in notes[0].body or "anulado" in notes[0].body
    credit = Invoice.objects.get(order_id=order["id"], kind=InvoiceKind.CREDIT_NOTE)
    assert (credit.total, credit.tax) == (Decimal("3000.00"), Decimal("0.00"))
    receipt = client_for(donor).get(f"{DONATIONS}{donation.pk}/receipt/")
    assert (receipt.status_code, receipt.json()["code"]) == (409, "receipt_unavailable")


def test_a_donor_counts_once_however_many_gifts(campaign, donor):
    give(client_for(donor), donation_line("1000.00", campaign))
    give(client_for(donor), donation_line("2000.00", campaign), donation_line("500.00", campaign))
    give(client_for(UserFactory()), donation_line("700.00", campaign))

    campaign.refresh_from_db()
    assert (campaign.raised, campaign.donor_count, campaign.donation_count) == (
        Decimal("4200.00"),
        2,
        4,
    )


def test_an_unpaid_gift_that_expires_never_counts(campaign, donor):
    created = client_for(donor).post(
        ORDERS, {"lines": [donation_line("1000.00", campaign)]}, format="json"
    )
    order = Order.objects.get(pk=created.json()["id"])
    run_out_hold(order)
    from apps.business.payments import services as payments

    assert payments.orders_expire().expired == 1
    assert Donation.objects.get().status == DonationStatus.CANCELED
    campaign.refresh_from_db()
    assert (campaign.raised, campaign.donor_count) == (Decimal("0.00"), 0)


def test_a_gift_to_the_general_fund_needs_no_campaign(donor):
    order = give(client_for(donor), donation_line("800.00"))

    donation = Donation.objects.get()
    assert (donation.campaign, donation.status) == (None, DonationStatus.PAID)
    assert order["lines"][0]["description"] == "Donación al fondo general del parque"


@pytest.mark.parametrize(
    ("line", "status", "code", "field"),
    [
        ({"amount": "499.99"}, 400, "amount_out_of_range", "lines.0.amount"),
        ({"amount": "5000000.01"}, 400, "amount_out_of_range", "lines.0.amount"),
        ({"amount": "0"}, 400, "amount_out_of_range", "lines.0.amount"),
        ({"amount": "-5"}, 400, "amount_out_of_range", "lines.0.amount"),
        ({"amount": "1e3"}, 400, "validation_error", "lines.0.amount"),
        ({"amount": "1000.00", "quantity": 2}, 400, "donation_quantity", "lines.0.quantity"),
        ({"amount": "1000.00", "campaign": 999999}, 400, "campaign_not_found", "lines.0.campaign"),
        ({"amount": "1000.00", "message": "x" * 501}, 400, "validation_error", "lines.0.message"),
        ({}, 400, "validation_error", "lines.0.amount"),
    ],
)
def test_a_wrong_gift_is_refused_and_nothing_is_written(donor, line, status, code, field):
    answer = client_for(donor).post(
        ORDERS, {"lines": [{"kind": "donation", **line}]}, format="json"
    )

    assert answer.status_code == status, answer.json()
    body = answer.json()
    assert body["code"] == code
    assert field in [error["field"] for error in body["errors"]], body
    assert (Order.objects.count(), Donation.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"is_public": False}, "campaign_not_found"),
        ({"ends_at_days": -1}, "campaign_closed"),
        ({"starts_at_days": 2}, "campaign_closed"),
    ],
)
def test_a_closed_campaign_takes_no_new_gifts_and_keeps_the_old_ones(campaign, donor, change, code):
    give(client_for(donor), donation_line("1000.00", campaign))
    now = timezone.now()
    if "ends_at_days" in change:
        Campaign.objects.filter(pk=campaign.pk).update(
            starts_at=now - timedelta(days=10), ends_at=now + timedelta(days=change["ends_at_days"])
        )
    elif "starts_at_days" in change:
        Campaign.objects.filter(pk=campaign.pk).update(
            starts_at=now + timedelta(days=change["starts_at_days"]), ends_at=None
        )
    else:
        Campaign.objects.filter(pk=campaign.pk).update(**change)

    answer = client_for(donor).post(
        ORDERS, {"lines": [donation_line("1000.00", campaign)]}, format="json"
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == code
    assert Order.objects.count() == 1
    campaign.refresh_from_db()
    assert (campaign.raised, campaign.donation_count) == (Decimal("1000.00"), 1)
    assert Donation.objects.get().status == DonationStatus.PAID


def test_the_donor_wall_never_shows_an_email_nor_an_anonymous_name(campaign):
    named = UserFactory(first_name="Luis", last_name="Soto", email="luis@example.org")
    hidden = UserFactory(first_name="Marta", last_name="Rojas", email="marta@example.org")
    give(client_for(named), donation_line("1000.00", campaign, message="Por las tortugas"))
    give(client_for(hidden), donation_line("2000.00", campaign, anonymous=True, message="Hola"))

    wall = client_for(None).get(f"{CAMPAIGNS}{campaign.pk}/donors/")

    assert wall.status_code == 200
    rows = [(row["name"], row["message"], row["amount"]) for row in wall.json()["results"]]
    assert rows == [("Anónimo", "Hola", "2000.00"), ("Luis Soto", "Por las tortugas", "1000.00")]
    text = (
        wall.content.decode() + client_for(None).get(f"{CAMPAIGNS}{campaign.pk}/").content.decode()
    )
    for secret in ("marta@example.org", "luis@example.org", "Marta", "Rojas"):
        assert secret not in text


def test_visitors_see_their_own_gifts_and_finance_sees_all(campaign, finance_client):
    ana, luis = UserFactory(), UserFactory()
    give(client_for(ana), donation_line("1000.00", campaign))
    give(client_for(luis), donation_line("2000.00", campaign))
    mine = Donation.objects.get(donor=ana)
    theirs = Donation.objects.get(donor=luis)

    assert [row["id"] for row in client_for(ana).get(DONATIONS).json()["results"]] == [mine.pk]
    assert client_for(ana).get(f"{DONATIONS}{theirs.pk}/").status_code == 404
    assert client_for(ana).get(f"{DONATIONS}{theirs.pk}/receipt/").status_code == 404
    every = finance_client.get(DONATIONS, {"campaign": campaign.pk}).json()
    assert {row["id"] for row in every["results"]} == {mine.pk, theirs.pk}
    assert client_for(None).get(DONATIONS).status_code == 401


def test_reading_a_campaign_costs_the_same_with_many_gifts(
    campaign, donor, django_assert_num_queries, settings
):
    settings.READ_CACHE_SECONDS = 0  # the database's part (tests/test_read_cache.py: the rest)
    client = client_for(None)
    client.get(f"{CAMPAIGNS}{campaign.pk}/")  # warm: content types, settings
    with django_assert_num_queries(1):
        few = client.get(f"{CAMPAIGNS}{campaign.pk}/")
    quiet = make_campaign(slug="arrecife")
    for _ in range(5):
        give(client_for(donor), donation_line("1000.00", campaign))
    with django_assert_num_queries(1):
        many = client.get(f"{CAMPAIGNS}{campaign.pk}/")
    assert (few.json()["donor_count"], many.json()["donor_count"]) == (0, 1)
    assert many.json()["raised"] == "5000.00"
    with django_assert_num_queries(2):  # the page and its count, whatever the gifts
        listed = client.get(CAMPAIGNS)
    assert {row["slug"] for row in listed.json()["results"]} == {"tortugas", quiet.slug}
