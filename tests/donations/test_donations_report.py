"""GET /api/v1/payments/reports/donations/: gifts paid in a period of the park's days, per
campaign or day, for finance and auditors; never a donor's name or email."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.business.donations.models import Donation
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member

from .conftest import donation_line, give, make_campaign

pytestmark = pytest.mark.django_db

REPORT = "/api/v1/payments/reports/donations/"
PARK = ZoneInfo("America/Costa_Rica")


def paid_on(donation: Donation, local: str) -> None:
    Donation.objects.filter(pk=donation.pk).update(
        paid_at=datetime.fromisoformat(local).replace(tzinfo=PARK)
    )


@pytest.fixture
def gifts(campaign):
    reef = make_campaign(slug="arrecife", title_es="Arrecife")
    ana, luis = UserFactory(email="ana@example.org"), UserFactory(email="luis@example.org")
    give(client_for(ana), donation_line("1000.00", campaign))
    give(client_for(ana), donation_line("2000.00", campaign))
    give(client_for(luis), donation_line("500.00", reef, anonymous=True))
    give(client_for(luis), donation_line("700.00"))  # the general fund
    first, second, third, fourth = Donation.objects.order_by("pk")
    paid_on(first, "2026-03-01T23:30")  # the 2nd in UTC, the 1st in the park
    paid_on(second, "2026-03-02T08:00")
    paid_on(third, "2026-03-02T09:00")
    paid_on(fourth, "2026-03-05T09:00")  # outside the period
    Donation.objects.filter(pk=second.pk).update(refunded_at=second.paid_at, status="refunded")
    return campaign, reef


def report(**query):
    answer = client_for(staff_member(Role.FINANCE)).get(
        REPORT, {"from": "2026-03-01", "to": "2026-03-03", **query}
    )
    assert answer.status_code == 200, answer.json()
    return answer.json()


def test_per_day_in_the_park_time_zone_with_every_day(gifts):
    data = report(group_by="day")

    assert [
        (r["key"], r["donations"], r["donors"], r["given"], r["refunded"]) for r in data["rows"]
    ] == [
        ("2026-03-01", 1, 1, "1000.00", "0.00"),
        ("2026-03-02", 2, 2, "2500.00", "2000.00"),
        ("2026-03-03", 0, 0, "0.00", "0.00"),
    ]
    assert data["totals"] == {
        "donations": 3,
        "donors": 2,
        "given": "3500.00",
        "refunded": "2000.00",
    }
    assert (data["currency"], data["group_by"]) == ("CRC", "day")


def test_per_campaign_and_the_general_fund(gifts):
    turtles, reef = gifts

    data = report(group_by="campaign", to="2026-03-31")

    assert [(r["key"], r["label"], r["donations"], r["given"]) for r in data["rows"]] == [
        (str(turtles.pk), "Rescate de tortugas", 2, "3000.00"),
        (str(reef.pk), "Arrecife", 1, "500.00"),
        ("general", "El fondo general del parque", 1, "700.00"),
    ]
    assert data["totals"]["donors"] == 2
    assert "ana@" not in str(data)


@pytest.mark.parametrize(
    ("user", "expected"),
    [(None, 401), ("visitor", 403), (Role.TICKET_OFFICE, 403), (Role.AUDITOR, 200)],
)
def test_finance_and_auditors_only(user, expected):
    if user == "visitor":
        user = UserFactory()
    elif user is not None:
        user = staff_member(user)
    answer = client_for(user).get(REPORT, {"from": "2026-03-01", "to": "2026-03-03"})
    assert answer.status_code == expected


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-03-05", "to": "2026-03-01"},
        {"from": "2026-03-01", "to": "2027-03-05"},
        {"from": "2026-03-01", "to": "2026-03-03", "group_by": "donor"},
        {"to": "2026-03-03"},
    ],
)
def test_a_wrong_period_or_grouping_is_a_400(query):
    answer = client_for(staff_member(Role.FINANCE)).get(REPORT, query)
    assert (answer.status_code, answer.json()["code"]) == (400, "validation_error")


def test_amounts_are_exact_decimal_strings(campaign):
    give(client_for(UserFactory()), donation_line("1000.10", campaign))
    give(client_for(UserFactory()), donation_line("999.95", campaign))
    [gift, other] = Donation.objects.order_by("pk")
    paid_on(gift, "2026-03-01T10:00")
    paid_on(other, "2026-03-01T11:00")
    assert report(group_by="day")["totals"]["given"] == str(Decimal("2000.05"))
