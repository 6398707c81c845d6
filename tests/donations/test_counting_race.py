"""A donor counts once on a campaign however their gifts race: several orders of the same
visitor, and gifts of other visitors, paid at the same moment from several processes through
the HTTP API on PostgreSQL.

The donor check (``gave_before``: does this donor have another paid gift to the campaign?) is
read under the campaign's row lock. The control run replaces that lock by nothing: then two of
the visitor's payments both read "no earlier gift" and the donor is counted twice, which the
test must see, or it would prove nothing. ``meet_after`` makes that interleaving certain: a
racer that has read the check waits until a rival has read it too, or is seen waiting for the
campaign's lock (tests/race.py).
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework_simplejwt.tokens import AccessToken

from apps.business.donations import services
from apps.business.donations.models import Campaign, Donation, DonationStatus
from apps.business.payments.models import Order
from tests.factories import UserFactory
from tests.helpers import client_for
from tests.race import meet_after, post_retrying, race

from .conftest import ORDERS, donation_line, make_campaign

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

GIFTS_OF_THE_DONOR = 4
OTHER_DONORS = 4


def place_orders(campaign):
    """Pending orders: the same visitor's several gifts, and one gift each of other visitors."""
    ana = UserFactory()
    payers = [ana] * GIFTS_OF_THE_DONOR + [UserFactory() for _ in range(OTHER_DONORS)]
    orders = []
    for number, payer in enumerate(payers):
        created = client_for(payer).post(
            ORDERS, {"lines": [donation_line(f"{1000 + number}.00", campaign)]}, format="json"
        )
        assert created.status_code == 201, created.json()
        orders.append((created.json()["id"], str(AccessToken.for_user(payer))))
    return orders


def pay_all(orders):
    def pay(order_id, bearer):
        def action(client):
            answer = post_retrying(
                client, f"{ORDERS}{order_id}/pay/", {"gateway": "sandbox"}, bearer
            )
            return (
                "pay",
                answer.status_code,
                answer.json().get("status", answer.json().get("code")),
            )

        return action

    return race([pay(order_id, bearer) for order_id, bearer in orders])


def totals(campaign):
    campaign = Campaign.objects.get(pk=campaign.pk)
    return campaign.raised, campaign.donor_count, campaign.donation_count


def expected(orders):
    raised = Donation.objects.filter(status=DonationStatus.PAID).aggregate(total=Sum("amount"))
    return raised["total"], 1 + OTHER_DONORS, len(orders)


def meet_at_the_donor_check(monkeypatch, orders):
    """Every payer reads whether the donor gave before, then waits for all the others to
    have read it too (or for one to be blocked on the campaign's lock)."""
    meet_after(
        monkeypatch,
        services,
        "gave_before",
        table="donations_campaign",
        armed=True,
        racers=len(orders),
    )


def test_a_donor_counts_once_when_their_gifts_are_paid_at_once(monkeypatch):
    campaign = make_campaign()
    orders = place_orders(campaign)
    meet_at_the_donor_check(monkeypatch, orders)

    answers = pay_all(orders)

    assert sorted(answers) == [("pay", 200, "paid")] * len(orders)
    assert Order.objects.filter(status="paid").count() == len(orders)
    assert totals(campaign) == expected(orders)
    assert totals(campaign)[0] == Decimal(sum(1000 + n for n in range(len(orders))))


def test_control_without_the_campaign_lock_the_donor_is_counted_twice(monkeypatch):
    campaign = make_campaign()
    orders = place_orders(campaign)
    monkeypatch.setattr(services, "lock_campaigns", lambda campaign_ids: None)
    meet_at_the_donor_check(monkeypatch, orders)

    answers = pay_all(orders)

    assert sorted(answers) == [("pay", 200, "paid")] * len(orders)
    raised, donors, donations = totals(campaign)
    # Raised and the gift count are plain increments (the row update queues them); the donor
    # check is what the lock protects.
    assert (raised, donations) == expected(orders)[::2]
    # Every payer read before any wrote: each of the donor's gifts counted them again.
    assert donors == GIFTS_OF_THE_DONOR + OTHER_DONORS
