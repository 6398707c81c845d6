"""What the donations tests share: an open campaign, a finance member, a line builder."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.donations.models import Campaign
from apps.support.security.roles import Role
from tests.helpers import client_for, staff_member

ORDERS = "/api/v1/payments/orders/"
CAMPAIGNS = "/api/v1/payments/campaigns/"
DONATIONS = "/api/v1/payments/donations/"


def make_campaign(**fields) -> Campaign:
    now = timezone.now()
    values = {
        "slug": "tortugas",
        "title_es": "Rescate de tortugas",
        "title_en": "Turtle rescue",
        "goal": Decimal("1000000.00"),
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=30),
        "is_public": True,
        "suggested_amounts": ["2000.00", "5000.00"],
    }
    return Campaign.objects.create(**(values | fields))


@pytest.fixture
def campaign(db):
    return make_campaign()


@pytest.fixture
def finance(db):
    return staff_member(Role.FINANCE)


@pytest.fixture
def finance_client(finance):
    return client_for(finance)


def donation_line(amount="5000.00", campaign=None, **fields):
    line = {"kind": "donation", "amount": amount}
    if campaign is not None:
        line["campaign"] = campaign.pk
    return line | fields


def give(client, *lines, **body):
    """POST an order of these lines and pay it with the sandbox; the paid order's JSON."""
    created = client.post(ORDERS, {"lines": list(lines), **body}, format="json")
    assert created.status_code == 201, created.json()
    paid = client.post(
        f"{ORDERS}{created.json()['id']}/pay/", {"gateway": "sandbox"}, format="json"
    )
    assert paid.status_code == 200, paid.json()
    return paid.json()
