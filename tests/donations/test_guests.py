"""A guest gives without an account: an email, the order's token shown once, nothing else."""

from decimal import Decimal

import pytest

from apps.business.donations.models import Donation, DonationStatus
from apps.business.payments.models import Order, Payment
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for

from .conftest import ORDERS, donation_line

pytestmark = pytest.mark.django_db


def test_a_guest_gives_with_an_email_and_pays_with_the_orders_token(
    campaign, api_client, mailoutbox, django_capture_on_commit_callbacks
):
    created = api_client.post(
        ORDERS,
        {
            "lines": [donation_line("2000.00", campaign, name="Familia Rojas")],
            "email": "g@example.org",
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    token = created.json()["guest_token"]
    assert len(token) >= 40
    order = Order.objects.get(pk=created.json()["id"])
    assert (order.user, order.created_by, order.email) == (None, None, "g@example.org")
    assert token not in order.guest_token_hash
    headers = {"X-Order-Token": token}
    seen = api_client.get(f"{ORDERS}{order.pk}/", headers=headers)
    assert (seen.status_code, seen.json()["status"]) == (200, "pending")
    assert "guest_token" not in seen.json()

    with django_capture_on_commit_callbacks(execute=True):
        paid = api_client.post(
            f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json", headers=headers
        )

    assert (paid.status_code, paid.json()["status"]) == (200, "paid")
    donation = Donation.objects.get()
    assert (donation.status, donation.donor, donation.donor_name, donation.donor_key) == (
        DonationStatus.PAID,
        None,
        "Familia Rojas",
        "email:g@example.org",
    )
    assert Payment.objects.get().created_by is None
    campaign.refresh_from_db()
    assert (campaign.raised, campaign.donor_count) == (Decimal("2000.00"), 1)
    assert [m.to for m in mailoutbox if donation.receipt_number in m.subject] == [["g@example.org"]]


def test_a_signed_in_visitors_order_has_no_guest_token(campaign):
    created = client_for(UserFactory()).post(
        ORDERS, {"lines": [donation_line("2000.00", campaign)]}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["guest_token"] is None
    assert Order.objects.get().guest_token_hash == ""


def test_without_the_token_a_guest_order_is_not_there(campaign, api_client):
    created = api_client.post(
        ORDERS,
        {"lines": [donation_line("2000.00", campaign)], "email": "g@example.org"},
        format="json",
    )
    order_id = created.json()["id"]

    assert api_client.get(f"{ORDERS}{order_id}/").status_code == 401
    wrong = {"X-Order-Token": "x" * 43}
    assert api_client.get(f"{ORDERS}{order_id}/", headers=wrong).status_code == 404
    paying = api_client.post(
        f"{ORDERS}{order_id}/pay/", {"gateway": "sandbox"}, format="json", headers=wrong
    )
    assert paying.status_code == 404
    assert (
        api_client.get(ORDERS, headers={"X-Order-Token": created.json()["guest_token"]}).status_code
        == 401
    )
    other = client_for(UserFactory()).get(f"{ORDERS}{order_id}/")
    assert other.status_code == 404
    assert Payment.objects.count() == 0


def test_a_guest_may_not_buy_tickets_nor_give_without_an_email(campaign, api_client):
    slot = TimeSlotFactory(capacity=5)
    adult = TicketTypeFactory(code="adult", price=Decimal("2900.00"))

    tickets = api_client.post(
        ORDERS,
        {
            "lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}, donation_line()],
            "email": "g@example.org",
        },
        format="json",
    )
    no_email = api_client.post(
        ORDERS, {"lines": [donation_line("2000.00", campaign)]}, format="json"
    )
    counter = api_client.post(
        ORDERS,
        {"lines": [donation_line()], "email": "g@example.org", "channel": "counter"},
        format="json",
    )

    assert (tickets.status_code, tickets.json()["code"]) == (401, "sign_in_required")
    assert (no_email.status_code, no_email.json()["code"]) == (400, "guest_email_required")
    assert (counter.status_code, counter.json()["code"]) == (401, "sign_in_required")
    assert (Order.objects.count(), Donation.objects.count()) == (0, 0)


def test_guests_orders_are_throttled_by_address(campaign, api_client, settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        | {"guest_order": "2/hour"}
    }
    body = {"lines": [donation_line("2000.00", campaign)], "email": "g@example.org"}
    answers = [api_client.post(ORDERS, body, format="json").status_code for _ in range(3)]
    assert answers == [201, 201, 429]
    assert Order.objects.count() == 2
    # A signed-in visitor is not counted as a guest.
    assert client_for(UserFactory()).post(ORDERS, body, format="json").status_code == 201
