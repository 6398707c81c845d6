"""Attendance: capacity, seats sold and visitors checked in per day, per slot and per gate, and
the list of check-ins, read by the staff who run the day."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Order
from apps.business.payments.services import order_create, order_pay
from apps.business.tickets.models import CheckIn, Ticket, TicketType, TimeSlot
from apps.business.tickets.services import ticket_check_in
from apps.business.tickets.signing import ticket_code
from apps.support.security.models import User
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

ATTENDANCE = "/api/v1/tickets/attendance/"
CHECK_INS = "/api/v1/tickets/check-ins/"

ANONYMOUS: tuple[int, str, list[str]] = (401, "not_authenticated", [])
DENIED: tuple[int, str, list[str]] = (403, "permission_denied", [])


def caller(role: str):
    if role == "anonymous":
        return client_for(None)
    if role == "visitor":
        return client_for(UserFactory())
    return client_for(staff_member(role))


def refused(role: str) -> tuple[int, str, list]:
    return ANONYMOUS if role == "anonymous" else DENIED


def refusal(response) -> tuple[int, str, list[tuple[str | None, str]]]:
    """Status, code and ``(field, code)`` of each field error, after checking the one shape."""
    body = response.json()
    assert set(body) - {"details"} == {"code", "message", "errors", "request_id"}
    assert body["request_id"] == response["X-Request-ID"]
    return (
        response.status_code,
        body["code"],
        [(error["field"], error["code"]) for error in body["errors"]],
    )


def iso(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat()


def order(slot: TimeSlot, ticket_type: TicketType, quantity: int, *, pay: bool = True) -> Order:
    buyer = UserFactory()
    placed = order_create(
        actor=buyer,
        lines=[
            LineRequest(
                kind="ticket",
                quantity=quantity,
                fields={"slot": slot.pk, "ticket_type": ticket_type.pk},
            )
        ],
    )
    if pay:
        order_pay(order=placed, actor=buyer, method="sandbox")
    return placed


def tickets_of(placed: Order) -> list[Ticket]:
    return list(Ticket.objects.filter(order=placed).order_by("id"))


@dataclass
class Day:
    today: date
    tomorrow: date
    large: TimeSlot
    small: TimeSlot
    ana: Order
    ben: Order
    gate_user: User


@pytest.fixture
def day() -> Day:
    """Today: two slots open now (60 and 40 places), 3 + 2 seats sold, 1 held, 4 visitors in (3 at
    Norte, 1 at Sur). Tomorrow: one slot of 30 places with 4 seats sold."""
    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    adult = TicketTypeFactory(code="adult")
    hour = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    large = TimeSlotFactory(starts_at=hour, ends_at=hour + timedelta(hours=2), capacity=60)
    small = TimeSlotFactory(
        starts_at=hour + timedelta(minutes=1), ends_at=hour + timedelta(hours=2), capacity=40
    )
    starts = datetime.combine(tomorrow, time(10, 0), tzinfo=timezone.get_current_timezone())
    next_day = TimeSlotFactory(starts_at=starts, ends_at=starts + timedelta(hours=2), capacity=30)
    ana = order(large, adult, 3)
    ben = order(small, adult, 2)
    order(large, adult, 1, pay=False)
    order(next_day, adult, 4)
    gate_user = staff_member(Role.GATE_STAFF, email="puerta@parquemarino.test")
    for ticket, gate in [
        *zip(tickets_of(ana), ["Norte", "Norte", "Sur"], strict=True),
        (tickets_of(ben)[0], "Norte"),
    ]:
        ticket_check_in(code=ticket_code(ticket.secret), gate=gate, actor=gate_user)
    return Day(today, tomorrow, large, small, ana, ben, gate_user)


def expected_day(day: Day) -> dict:
    return {
        "days": [
            {"date": day.today.isoformat(), "capacity": 100, "sold": 5, "checked_in": 4},
        ],
        "slots": [
            {
                "slot": day.large.pk,
                "starts_at": iso(day.large.starts_at),
                "ends_at": iso(day.large.ends_at),
                "capacity": 60,
                "sold": 3,
                "checked_in": 3,
            },
            {
                "slot": day.small.pk,
                "starts_at": iso(day.small.starts_at),
                "ends_at": iso(day.small.ends_at),
                "capacity": 40,
                "sold": 2,
                "checked_in": 1,
            },
        ],
        "gates": [{"gate": "Norte", "checked_in": 3}, {"gate": "Sur", "checked_in": 1}],
    }


@pytest.mark.parametrize(
    "role", [Role.GATE_STAFF, Role.TICKET_OFFICE, Role.FINANCE, Role.ADMINISTRATOR]
)
def test_the_days_attendance_per_slot_and_gate(day, role):
    client = caller(role)

    asked = client.get(ATTENDANCE, {"date": day.today.isoformat()})

    assert asked.status_code == 200, asked.json()
    assert asked.json() == expected_day(day)
    assert client.get(ATTENDANCE).json() == expected_day(day)  # today by default


def test_a_range_has_one_row_per_day_and_no_slots_or_gates(day):
    asked = caller(Role.FINANCE).get(
        ATTENDANCE,
        {
            "date_from": (day.today - timedelta(days=1)).isoformat(),
            "date_to": day.tomorrow.isoformat(),
        },
    )

    assert asked.status_code == 200, asked.json()
    assert asked.json() == {
        "days": [
            {"date": day.today.isoformat(), "capacity": 100, "sold": 5, "checked_in": 4},
            {"date": day.tomorrow.isoformat(), "capacity": 30, "sold": 4, "checked_in": 0},
        ],
        "slots": [],
        "gates": [],
    }


def test_a_day_without_slots_has_empty_attendance(day):
    asked = caller(Role.TICKET_OFFICE).get(ATTENDANCE, {"date": "2031-03-04"})

    assert asked.json() == {"days": [], "slots": [], "gates": []}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"date_from": "2031-03-05", "date_to": "2031-03-04"}, ("date_to", "invalid")),
        ({"date_from": "2031-03-01", "date_to": "2031-05-02"}, ("date_to", "invalid")),
        ({"date": "2031-03-04", "date_from": "2031-03-01"}, (None, "invalid")),
    ],
)
def test_a_wrong_attendance_range_is_refused(params, error):
    response = caller(Role.FINANCE).get(ATTENDANCE, params)

    assert refusal(response) == (400, "validation_error", [error])


@pytest.mark.parametrize("role", ["anonymous", "visitor", Role.AUDITOR, Role.CURATOR])
def test_others_do_not_see_attendance(day, role):
    response = caller(role).get(ATTENDANCE, {"date": day.today.isoformat()})

    assert refusal(response) == refused(role)


# --- Check-ins ---------------------------------------------------------------------------


def test_the_ticket_office_lists_the_check_ins(day):
    client = caller(Role.TICKET_OFFICE)

    listed = client.get(CHECK_INS)

    assert listed.status_code == 200, listed.json()
    assert listed.json()["count"] == 4
    newest_first = [tickets_of(day.ben)[0], *reversed(tickets_of(day.ana))]
    results = listed.json()["results"]
    assert [(c["ticket"]["id"], c["gate"]) for c in results] == [
        (newest_first[0].pk, "Norte"),
        (newest_first[1].pk, "Sur"),
        (newest_first[2].pk, "Norte"),
        (newest_first[3].pk, "Norte"),
    ]
    assert {c["checked_in_by"] for c in results} == {"puerta@parquemarino.test"}
    latest = CheckIn.objects.get(ticket=newest_first[0])
    assert results[0] == {
        "id": latest.pk,
        "ticket": {
            "id": newest_first[0].pk,
            "code": ticket_code(newest_first[0].secret),
            "status": "valid",
            "order": day.ben.pk,
            "order_code": day.ben.code,
            "slot": day.small.pk,
            "starts_at": iso(day.small.starts_at),
            "ends_at": iso(day.small.ends_at),
            "ticket_type": newest_first[0].ticket_type_id,
            "ticket_type_name": "Adulto nacional",
            "checked_in_at": results[0]["ticket"]["checked_in_at"],
        },
        "gate": "Norte",
        "checked_in_at": iso(latest.checked_in_at),
        "checked_in_by": "puerta@parquemarino.test",
    }
    assert datetime.fromisoformat(results[0]["ticket"]["checked_in_at"]) == latest.checked_in_at

    north = client.get(CHECK_INS, {"gate": "Norte"})

    assert north.json()["count"] == 3
    assert {c["gate"] for c in north.json()["results"]} == {"Norte"}
    assert client.get(CHECK_INS, {"gate": "Este"}).json()["count"] == 0


def test_a_tickets_check_in_time_is_in_the_parks_time_zone(day):
    listed = caller(Role.TICKET_OFFICE).get(CHECK_INS).json()["results"]
    own = client_for(day.ben.user).get("/api/v1/tickets/tickets/").json()["results"]

    assert [c["ticket"]["checked_in_at"] for c in listed] == [c["checked_in_at"] for c in listed]
    assert own[0]["checked_in_at"] == listed[0]["checked_in_at"]


def test_gate_staff_read_the_check_ins_too(day):
    listed = client_for(day.gate_user).get(CHECK_INS, {"gate": "Sur"})

    assert listed.status_code == 200
    assert [c["gate"] for c in listed.json()["results"]] == ["Sur"]


@pytest.mark.parametrize("role", ["anonymous", "visitor", Role.FINANCE, Role.AUDITOR])
def test_others_do_not_list_the_check_ins(day, role):
    assert refusal(caller(role).get(CHECK_INS)) == refused(role)


def test_only_gate_staff_check_visitors_in(day):
    code = ticket_code(tickets_of(day.ben)[1].secret)
    body = {"code": code, "gate": "Este"}

    for role in ("anonymous", "visitor", Role.TICKET_OFFICE, Role.FINANCE):
        assert refusal(caller(role).post(CHECK_INS, body, format="json")) == refused(role)
    assert CheckIn.objects.count() == 4

    admitted = client_for(day.gate_user).post(CHECK_INS, body, format="json")

    assert admitted.status_code == 201, admitted.json()
    assert (admitted.json()["gate"], admitted.json()["ticket"]["code"]) == ("Este", code)
    attendance = caller(Role.FINANCE).get(ATTENDANCE).json()
    assert attendance["days"][0]["checked_in"] == 5
    assert [s["checked_in"] for s in attendance["slots"]] == [3, 2]
    assert attendance["gates"] == [
        {"gate": "Este", "checked_in": 1},
        {"gate": "Norte", "checked_in": 3},
        {"gate": "Sur", "checked_in": 1},
    ]
