"""The ticket office's catalogue through the API: ticket types and their prices, the opening
schedule, closures, the slots generated from them, and the availability anyone reads."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Order
from apps.business.payments.services import order_create, order_pay
from apps.business.tickets.models import (
    Closure,
    OpeningSchedule,
    Reservation,
    TicketType,
    TimeSlot,
)
from apps.support.common import readcache
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

TICKET_TYPES = "/api/v1/tickets/ticket-types/"
SCHEDULES = "/api/v1/tickets/schedules/"
CLOSURES = "/api/v1/tickets/closures/"
SLOTS = "/api/v1/tickets/slots/"
GENERATE = "/api/v1/tickets/slots/generate/"

MONDAY = date(2031, 3, 3)
TUESDAY = date(2031, 3, 4)
WEDNESDAY = date(2031, 3, 5)
PAST_DAY = date(2020, 1, 7)

ANONYMOUS: tuple[int, str, list[str]] = (401, "not_authenticated", [])
DENIED: tuple[int, str, list[str]] = (403, "permission_denied", [])

SEASON = {
    "name": "Temporada 2031",
    "valid_from": "2031-01-01",
    "weekdays": [1, 2, 3, 4, 5, 6],
    "opens_at": "09:00",
    "closes_at": "16:30",
    "slot_minutes": 30,
    "capacity_per_slot": 85,
}
TUESDAY_STARTS = [
    "09:00",
    "09:30",
    "10:00",
    "10:30",
    "11:00",
    "11:30",
    "12:00",
    "12:30",
    "13:00",
    "13:30",
    "14:00",
    "14:30",
    "15:00",
    "15:30",
    "16:00",
]


def caller(role: str):
    """An API client for ``anonymous``, a ``visitor`` (no role) or a staff role."""
    if role == "anonymous":
        return client_for(None)
    if role == "visitor":
        return client_for(UserFactory())
    return client_for(staff_member(role))


def office():
    return caller(Role.TICKET_OFFICE)


def refused(role: str) -> tuple[int, str, list]:
    return ANONYMOUS if role == "anonymous" else DENIED


def refusal(response) -> tuple[int, str, list[tuple[str | None, str]]]:
    """Status, code and ``(field, code)`` of each field error, after checking the one shape."""
    body = response.json()
    assert set(body) - {"details"} == {"code", "message", "errors", "request_id"}
    assert body["request_id"] == response["X-Request-ID"]
    assert all(set(error) == {"field", "code", "message"} for error in body["errors"])
    return (
        response.status_code,
        body["code"],
        [(error["field"], error["code"]) for error in body["errors"]],
    )


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


def slot_at(day: date, hour: int = 10, minute: int = 0, **fields) -> TimeSlot:
    starts_at = local(day, hour, minute)
    return TimeSlotFactory(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30), **fields)


def hold(slot: TimeSlot, ticket_type: TicketType, quantity: int, user=None) -> Order:
    return order_create(
        actor=user or UserFactory(),
        lines=[
            LineRequest(
                kind="ticket",
                quantity=quantity,
                fields={"slot": slot.pk, "ticket_type": ticket_type.pk},
            )
        ],
    )


def sell(slot: TimeSlot, ticket_type: TicketType, quantity: int) -> Order:
    buyer = UserFactory()
    order = hold(slot, ticket_type, quantity, buyer)
    order_pay(order=order, actor=buyer, method="sandbox")
    return order


def let_expire(order: Order) -> None:
    past = timezone.now() - timedelta(minutes=1)
    Reservation.objects.filter(order=order).update(expires_at=past)
    Order.objects.filter(pk=order.pk).update(expires_at=past)
    # The clock did not move; the rows did, behind the services' back: as a write would.
    readcache.changed(readcache.SLOTS)


def availability(client, **params) -> list[dict]:
    response = client.get(SLOTS, params)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def seats(slot: dict) -> tuple[int, int, int, int, bool]:
    return (slot["capacity"], slot["sold"], slot["held"], slot["remaining"], slot["bookable"])


def slots_per_day() -> dict[date, int]:
    return dict(TimeSlot.objects.values_list("date").annotate(n=Count("id")).order_by("date"))


@pytest.fixture
def season() -> OpeningSchedule:
    """Tuesday to Sunday, 09:00-16:30 in slots of 30 minutes for 85 visitors each."""
    return OpeningSchedule.objects.create(
        name="Temporada 2031",
        valid_from=date(2031, 1, 1),
        weekdays=[1, 2, 3, 4, 5, 6],
        opens_at=time(9, 0),
        closes_at=time(16, 30),
        slot_minutes=30,
        capacity_per_slot=85,
    )


@pytest.fixture
def adult() -> TicketType:
    return TicketTypeFactory(code="adult", price=Decimal("2900.00"))


# --- Ticket types ------------------------------------------------------------------------


def test_visitors_see_only_the_ticket_types_on_sale():
    today = timezone.localdate()
    TicketTypeFactory(code="adult", display_order=1)
    TicketTypeFactory(code="retired", display_order=2, is_active=False)
    TicketTypeFactory(code="last-season", display_order=3, valid_until=today - timedelta(days=1))
    TicketTypeFactory(code="ends-today", display_order=4, valid_until=today)
    # Sold now for visits from next month on: on sale, though not valid for today's visits.
    TicketTypeFactory(code="next-season", display_order=5, valid_from=today + timedelta(days=30))
    retired = TicketType.objects.get(code="retired")

    for role in ("anonymous", "visitor"):
        client = caller(role)
        listed = client.get(TICKET_TYPES)
        assert listed.status_code == 200
        assert listed.json()["count"] == 3
        assert [t["code"] for t in listed.json()["results"]] == [
            "adult",
            "ends-today",
            "next-season",
        ]
        assert refusal(client.get(f"{TICKET_TYPES}{retired.pk}/")) == (404, "not_found", [])

    staff = office().get(TICKET_TYPES)
    assert [t["code"] for t in staff.json()["results"]] == [
        "adult",
        "retired",
        "last-season",
        "ends-today",
        "next-season",
    ]
    assert office().get(f"{TICKET_TYPES}{retired.pk}/").json()["is_active"] is False


def test_the_ticket_office_creates_a_ticket_type():
    created = office().post(
        TICKET_TYPES,
        {"code": "adult", "name_es": "Adulto nacional", "price": "2900"},
        format="json",
    )

    assert created.status_code == 201, created.json()
    ticket_type = TicketType.objects.get()
    assert created.json() == {
        "id": ticket_type.pk,
        "code": "adult",
        "name_es": "Adulto nacional",
        "name_en": "",
        "description_es": "",
        "description_en": "",
        "price": "2900.00",
        "currency": "CRC",
        "min_quantity": 1,
        "is_active": True,
        "valid_from": None,
        "valid_until": None,
        "display_order": 0,
    }
    assert (ticket_type.price, ticket_type.currency) == (Decimal("2900.00"), "CRC")

    again = office().post(
        TICKET_TYPES, {"code": "adult", "name_es": "Otra", "price": "1"}, format="json"
    )
    assert refusal(again) == (400, "validation_error", [("code", "unique")])
    assert TicketType.objects.count() == 1


@pytest.mark.parametrize(
    "role", ["anonymous", "visitor", Role.GATE_STAFF, Role.FINANCE, Role.CURATOR]
)
def test_only_the_ticket_office_creates_ticket_types(role):
    response = caller(role).post(
        TICKET_TYPES, {"code": "adult", "name_es": "Adulto", "price": "2900"}, format="json"
    )

    assert refusal(response) == refused(role)
    assert TicketType.objects.count() == 0


def test_an_unknown_field_is_refused(adult):
    created = office().post(
        TICKET_TYPES,
        {"code": "child", "name_es": "Niño", "price": "1600", "colour": "blue"},
        format="json",
    )
    changed = office().patch(f"{TICKET_TYPES}{adult.pk}/", {"prize": "1"}, format="json")

    assert refusal(created) == (400, "validation_error", [("colour", "unknown_field")])
    assert refusal(changed) == (400, "validation_error", [("prize", "unknown_field")])
    assert list(TicketType.objects.values_list("code", "price")) == [("adult", Decimal("2900.00"))]


def test_the_ticket_office_changes_a_price(adult):
    changed = office().patch(f"{TICKET_TYPES}{adult.pk}/", {"price": "3100.5"}, format="json")

    assert changed.status_code == 200, changed.json()
    assert (changed.json()["price"], changed.json()["code"]) == ("3100.50", "adult")
    adult.refresh_from_db()
    assert adult.price == Decimal("3100.50")


@pytest.mark.parametrize("role", ["anonymous", "visitor", Role.GATE_STAFF, Role.FINANCE])
def test_only_the_ticket_office_changes_prices(adult, role):
    response = caller(role).patch(f"{TICKET_TYPES}{adult.pk}/", {"price": "1"}, format="json")

    assert refusal(response) == refused(role)
    adult.refresh_from_db()
    assert adult.price == Decimal("2900.00")


def test_a_negative_price_is_refused(adult):
    created = office().post(
        TICKET_TYPES, {"code": "child", "name_es": "Niño", "price": "-1"}, format="json"
    )
    changed = office().patch(f"{TICKET_TYPES}{adult.pk}/", {"price": "-0.01"}, format="json")

    assert refusal(created)[:2] == (400, "validation_error")
    assert refusal(changed)[:2] == (400, "validation_error")
    assert list(TicketType.objects.values_list("code", "price")) == [("adult", Decimal("2900.00"))]


def test_a_negative_price_is_reported_on_the_price_field(adult):
    created = office().post(
        TICKET_TYPES, {"code": "child", "name_es": "Niño", "price": "-1"}, format="json"
    )
    changed = office().patch(f"{TICKET_TYPES}{adult.pk}/", {"price": "-0.01"}, format="json")

    assert refusal(created) == (400, "validation_error", [("price", "min_value")])
    assert refusal(changed) == (400, "validation_error", [("price", "min_value")])


def test_ticket_types_are_never_deleted(adult):
    response = office().delete(f"{TICKET_TYPES}{adult.pk}/")

    assert refusal(response) == (405, "method_not_allowed", [])
    assert TicketType.objects.filter(pk=adult.pk).exists()


# --- Opening schedules ---------------------------------------------------------------------


def test_the_ticket_office_keeps_the_opening_schedule():
    client = office()
    created = client.post(SCHEDULES, SEASON, format="json")

    assert created.status_code == 201, created.json()
    schedule = OpeningSchedule.objects.get()
    assert created.json() == {
        "id": schedule.pk,
        "name": "Temporada 2031",
        "valid_from": "2031-01-01",
        "valid_until": None,
        "weekdays": [1, 2, 3, 4, 5, 6],
        "opens_at": "09:00:00",
        "closes_at": "16:30:00",
        "slot_minutes": 30,
        "capacity_per_slot": 85,
    }
    assert (schedule.opens_at, schedule.closes_at) == (time(9, 0), time(16, 30))

    changed = client.patch(
        f"{SCHEDULES}{schedule.pk}/", {"capacity_per_slot": 90, "weekdays": [5, 6]}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["capacity_per_slot"], changed.json()["weekdays"]) == (90, [5, 6])

    deleted = client.delete(f"{SCHEDULES}{schedule.pk}/")
    assert deleted.status_code == 204
    assert OpeningSchedule.objects.count() == 0


def test_closing_before_opening_is_refused():
    response = office().post(SCHEDULES, {**SEASON, "closes_at": "08:30"}, format="json")

    assert refusal(response)[:2] == (400, "validation_error")
    assert OpeningSchedule.objects.count() == 0


def test_closing_before_opening_is_reported_on_closes_at():
    response = office().post(SCHEDULES, {**SEASON, "closes_at": "08:30"}, format="json")

    assert [field for field, _code in refusal(response)[2]] == ["closes_at"]


@pytest.mark.parametrize(
    ("weekdays", "error"),
    [
        ([1, 7], ("weekdays.1", "max_value")),
        ([-1, 2], ("weekdays.0", "min_value")),
        ([], ("weekdays", "min_length")),
        ("1,2", ("weekdays", "not_a_list")),
    ],
)
def test_weekdays_out_of_range_are_refused(weekdays, error):
    response = office().post(SCHEDULES, {**SEASON, "weekdays": weekdays}, format="json")

    assert refusal(response) == (400, "validation_error", [error])
    assert OpeningSchedule.objects.count() == 0


def test_finance_reads_the_schedule_but_does_not_change_it(season):
    finance = caller(Role.FINANCE)

    listed = finance.get(SCHEDULES)
    assert listed.status_code == 200
    assert [(s["id"], s["capacity_per_slot"]) for s in listed.json()["results"]] == [
        (season.pk, 85)
    ]
    assert finance.get(f"{SCHEDULES}{season.pk}/").status_code == 200

    assert refusal(finance.post(SCHEDULES, SEASON, format="json")) == DENIED
    assert (
        refusal(finance.patch(f"{SCHEDULES}{season.pk}/", {"capacity_per_slot": 1}, format="json"))
        == DENIED
    )
    assert refusal(finance.delete(f"{SCHEDULES}{season.pk}/")) == DENIED
    assert list(OpeningSchedule.objects.values_list("pk", "capacity_per_slot")) == [(season.pk, 85)]


@pytest.mark.parametrize("role", ["anonymous", "visitor", Role.GATE_STAFF])
def test_others_neither_read_nor_change_the_schedule(season, role):
    client = caller(role)

    assert refusal(client.get(SCHEDULES)) == refused(role)
    assert refusal(client.get(f"{SCHEDULES}{season.pk}/")) == refused(role)
    assert refusal(client.post(SCHEDULES, SEASON, format="json")) == refused(role)
    assert refusal(
        client.patch(f"{SCHEDULES}{season.pk}/", {"capacity_per_slot": 1}, format="json")
    ) == refused(role)
    assert refusal(client.delete(f"{SCHEDULES}{season.pk}/")) == refused(role)
    assert list(OpeningSchedule.objects.values_list("pk", "capacity_per_slot")) == [(season.pk, 85)]


# --- Slot generation and closures ----------------------------------------------------------


def test_slots_are_generated_from_the_schedule(season):
    client = office()

    first = client.post(GENERATE, {"start": "2031-03-03", "days": 7}, format="json")

    assert first.status_code == 200, first.json()
    assert first.json() == {"created": 90}
    assert slots_per_day() == {MONDAY + timedelta(days=n): 15 for n in range(1, 7)}
    assert availability(client, date=MONDAY.isoformat()) == []
    tuesday = availability(client, date=TUESDAY.isoformat())
    assert [slot["starts_at"][11:16] for slot in tuesday] == TUESDAY_STARTS
    assert [slot["ends_at"][11:16] for slot in tuesday] == [*TUESDAY_STARTS[1:], "16:30"]
    assert tuesday[0] == {
        "id": tuesday[0]["id"],
        "date": "2031-03-04",
        "starts_at": "2031-03-04T09:00:00-06:00",
        "ends_at": "2031-03-04T09:30:00-06:00",
        "capacity": 85,
        "sold": 0,
        "held": 0,
        "remaining": 85,
        "is_closed": False,
        "bookable": True,
    }

    again = client.post(GENERATE, {"start": "2031-03-03", "days": 7}, format="json")

    assert again.json() == {"created": 0}
    assert TimeSlot.objects.count() == 90


def test_a_closed_day_gets_no_slots(season):
    client = office()
    closed = client.post(
        CLOSURES, {"date": "2031-03-05", "reason": "Mantenimiento de tanques"}, format="json"
    )
    assert closed.status_code == 201, closed.json()
    closure = Closure.objects.get()
    assert closed.json() == {
        "id": closure.pk,
        "date": "2031-03-05",
        "reason": "Mantenimiento de tanques",
    }

    generated = client.post(GENERATE, {"start": "2031-03-03", "days": 7}, format="json")

    assert generated.json() == {"created": 75}
    assert availability(client, date=WEDNESDAY.isoformat()) == []
    assert WEDNESDAY not in slots_per_day()

    assert client.delete(f"{CLOSURES}{closure.pk}/").status_code == 204
    assert client.post(GENERATE, {"start": "2031-03-03", "days": 7}, format="json").json() == {
        "created": 15
    }
    assert slots_per_day()[WEDNESDAY] == 15


def test_a_closure_closes_the_days_slots_and_deleting_it_reopens_them(season):
    client = office()
    client.post(GENERATE, {"start": "2031-03-03", "days": 7}, format="json")

    closure = client.post(CLOSURES, {"date": "2031-03-04", "reason": "Feriado"}, format="json")

    assert closure.status_code == 201, closure.json()
    tuesday = availability(caller("anonymous"), date=TUESDAY.isoformat())
    assert [(s["is_closed"], s["bookable"]) for s in tuesday] == [(True, False)] * 15
    wednesday = availability(caller("anonymous"), date=WEDNESDAY.isoformat())
    assert [(s["is_closed"], s["bookable"]) for s in wednesday] == [(False, True)] * 15

    assert client.get(CLOSURES).json()["count"] == 1
    deleted = client.delete(f"{CLOSURES}{closure.json()['id']}/")

    assert deleted.status_code == 204
    assert Closure.objects.count() == 0
    tuesday = availability(caller("anonymous"), date=TUESDAY.isoformat())
    assert [(s["is_closed"], s["bookable"]) for s in tuesday] == [(False, True)] * 15


def test_deleting_a_closure_leaves_slots_closed_on_their_own_closed(season):
    client = office()
    client.post(GENERATE, {"start": "2031-03-04", "days": 1}, format="json")
    nine = TimeSlot.objects.get(starts_at=local(TUESDAY, 9))
    assert client.patch(f"{SLOTS}{nine.pk}/", {"is_closed": True}, format="json").status_code == 200
    closure = client.post(CLOSURES, {"date": "2031-03-04", "reason": "Lluvia"}, format="json")

    client.delete(f"{CLOSURES}{closure.json()['id']}/")

    tuesday = availability(client, date=TUESDAY.isoformat())
    assert [s["is_closed"] for s in tuesday] == [True] + [False] * 14


def test_a_duplicate_closure_is_refused(season):
    Closure.objects.create(date=TUESDAY, reason="Feriado")

    response = office().post(CLOSURES, {"date": "2031-03-04", "reason": "Otra"}, format="json")

    assert refusal(response) == (400, "validation_error", [("date", "unique")])
    assert list(Closure.objects.values_list("reason", flat=True)) == ["Feriado"]


@pytest.mark.parametrize("role", ["anonymous", "visitor", Role.GATE_STAFF, Role.FINANCE])
def test_only_the_ticket_office_closes_and_reopens_days(season, role):
    office().post(GENERATE, {"start": "2031-03-04", "days": 2}, format="json")
    closed = office().post(CLOSURES, {"date": "2031-03-05", "reason": "Feriado"}, format="json")
    client = caller(role)

    created = client.post(CLOSURES, {"date": "2031-03-04", "reason": "x"}, format="json")
    deleted = client.delete(f"{CLOSURES}{closed.json()['id']}/")

    assert refusal(created) == refused(role)
    assert refusal(deleted) == refused(role)
    assert list(Closure.objects.values_list("date", flat=True)) == [WEDNESDAY]
    assert set(TimeSlot.objects.filter(date=TUESDAY).values_list("is_closed", flat=True)) == {False}
    assert set(TimeSlot.objects.filter(date=WEDNESDAY).values_list("is_closed", flat=True)) == {
        True
    }
    listed = client.get(CLOSURES)
    assert listed.status_code == 200
    assert [(c["date"], c["reason"]) for c in listed.json()["results"]] == [
        ("2031-03-05", "Feriado")
    ]


@pytest.mark.parametrize(("days", "code"), [(0, "min_value"), (367, "max_value")])
def test_generating_too_few_or_too_many_days_is_refused(season, days, code):
    response = office().post(GENERATE, {"start": "2031-03-03", "days": days}, format="json")

    assert refusal(response) == (400, "validation_error", [("days", code)])
    assert TimeSlot.objects.count() == 0


@pytest.mark.parametrize(
    ("day", "code"),
    [
        ("0001-01-01", "date_passed"),
        ("yesterday", "date_passed"),
        ("9999-12-31", "date_too_far"),
        ("beyond ten years", "date_too_far"),
    ],
)
def test_closures_and_slot_generation_are_for_today_and_the_next_ten_years(season, day, code):
    today = timezone.localdate()
    day = {
        "yesterday": (today - timedelta(days=1)).isoformat(),
        "beyond ten years": (today + timedelta(days=10 * 366 + 1)).isoformat(),
    }.get(day, day)
    closed = office().post(CLOSURES, {"date": day, "reason": "Feriado"}, format="json")
    generated = office().post(GENERATE, {"start": day, "days": 2}, format="json")

    assert refusal(closed) == (400, code, [("date", code)])
    assert refusal(generated) == (400, code, [("start", code)])
    assert (Closure.objects.count(), TimeSlot.objects.count()) == (0, 0)


def test_today_can_be_closed_and_its_slots_generated(season):
    today = timezone.localdate().isoformat()
    assert office().post(GENERATE, {"start": today, "days": 1}, format="json").status_code == 200
    closed = office().post(CLOSURES, {"date": today, "reason": "Lluvia"}, format="json")
    assert closed.status_code == 201


def test_a_year_and_a_day_can_be_generated_at_once():
    response = office().post(GENERATE, {"start": "2031-03-03", "days": 366}, format="json")

    assert response.json() == {"created": 0}  # no schedule: nothing to open


@pytest.mark.parametrize("role", ["anonymous", "visitor", Role.GATE_STAFF, Role.FINANCE])
def test_only_the_ticket_office_generates_slots(season, role):
    response = caller(role).post(GENERATE, {"start": "2031-03-03", "days": 7}, format="json")

    assert refusal(response) == refused(role)
    assert TimeSlot.objects.count() == 0


# --- Availability --------------------------------------------------------------------------


def test_availability_is_of_today_unless_asked_otherwise():
    today = timezone.localdate()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    earlier = slot_at(yesterday)
    now = TimeSlotFactory()
    later = slot_at(tomorrow)
    anonymous = caller("anonymous")

    assert [s["id"] for s in availability(anonymous)] == [now.pk]
    assert [s["id"] for s in availability(anonymous, date=tomorrow.isoformat())] == [later.pk]
    assert [s["date"] for s in availability(anonymous, date=yesterday.isoformat())] == [
        yesterday.isoformat()
    ]
    both_ends = availability(
        anonymous, date_from=yesterday.isoformat(), date_to=tomorrow.isoformat()
    )
    assert [s["id"] for s in both_ends] == [earlier.pk, now.pk, later.pk]
    assert [s["id"] for s in availability(anonymous, date_from=today.isoformat())] == [now.pk]
    assert [s["id"] for s in availability(anonymous, date_to=yesterday.isoformat())] == [earlier.pk]


def test_a_range_of_62_days_is_the_longest():
    first = slot_at(date(2031, 3, 1))
    last = slot_at(date(2031, 5, 1))

    sixty_two = availability(caller("anonymous"), date_from="2031-03-01", date_to="2031-05-01")

    assert [s["id"] for s in sixty_two] == [first.pk, last.pk]


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"date_from": "2031-03-05", "date_to": "2031-03-04"}, ("date_to", "invalid")),
        ({"date_from": "2031-03-01", "date_to": "2031-05-02"}, ("date_to", "invalid")),
        ({"date": "2031-03-04", "date_from": "2031-03-01"}, (None, "invalid")),
        ({"date": "2031-03-04", "date_to": "2031-03-05"}, (None, "invalid")),
        ({"date": "2031-02-30"}, ("date", "invalid")),
        ({"day": "2031-03-04"}, ("day", "unknown_field")),
    ],
)
def test_a_wrong_range_is_refused(params, error):
    response = caller("anonymous").get(SLOTS, params)

    assert refusal(response) == (400, "validation_error", [error])


def test_remaining_seats_are_capacity_less_sold_less_unexpired_holds(adult):
    slot = slot_at(TUESDAY, capacity=10)
    sell(slot, adult, 2)
    pending = hold(slot, adult, 3)
    anonymous = caller("anonymous")

    assert [seats(s) for s in availability(anonymous, date="2031-03-04")] == [(10, 2, 3, 5, True)]

    let_expire(pending)

    assert [seats(s) for s in availability(anonymous, date="2031-03-04")] == [(10, 2, 0, 8, True)]
    assert Order.objects.get(pk=pending.pk).status == "pending"  # only time ended the hold


def test_past_closed_and_full_slots_are_not_bookable(adult):
    over = slot_at(PAST_DAY)
    open_ = slot_at(TUESDAY, 9)
    closed = slot_at(TUESDAY, 10, is_closed=True)
    held_full = slot_at(TUESDAY, 11, capacity=3)
    sold_out = slot_at(TUESDAY, 12, capacity=2)
    hold(held_full, adult, 3)
    sell(sold_out, adult, 2)
    anonymous = caller("anonymous")

    assert [(s["id"], seats(s)) for s in availability(anonymous, date="2031-03-04")] == [
        (open_.pk, (60, 0, 0, 60, True)),
        (closed.pk, (60, 0, 0, 60, False)),
        (held_full.pk, (3, 0, 3, 0, False)),
        (sold_out.pk, (2, 2, 0, 0, False)),
    ]
    assert [(s["id"], seats(s)) for s in availability(anonymous, date="2020-01-07")] == [
        (over.pk, (60, 0, 0, 60, False))
    ]


@pytest.mark.parametrize("slots", [1, 15])
def test_the_availability_query_count_does_not_grow_with_the_slots(
    adult, django_assert_num_queries, slots, settings
):
    settings.READ_CACHE_SECONDS = 0  # the database's part (tests/test_read_cache.py: the rest)
    for n in range(slots):
        starts_at = local(TUESDAY, 9) + timedelta(minutes=30 * n)
        hold(
            TimeSlotFactory(starts_at=starts_at, ends_at=starts_at + timedelta(minutes=30)),
            adult,
            1,
        )
    anonymous = caller("anonymous")

    with django_assert_num_queries(1):  # the page with its holds and the count
        listed = anonymous.get(SLOTS, {"date": "2031-03-04"})

    assert [s["held"] for s in listed.json()["results"]] == [1] * slots


# --- Changing one slot ---------------------------------------------------------------------


def test_the_ticket_office_changes_a_slots_capacity():
    slot = slot_at(TUESDAY, capacity=85)

    response = office().patch(f"{SLOTS}{slot.pk}/", {"capacity": 100}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "id": slot.pk,
        "date": "2031-03-04",
        "starts_at": "2031-03-04T10:00:00-06:00",
        "ends_at": "2031-03-04T10:30:00-06:00",
        "capacity": 100,
        "sold": 0,
        "held": 0,
        "remaining": 100,
        "is_closed": False,
        "bookable": True,
    }
    slot.refresh_from_db()
    assert slot.capacity == 100


def test_capacity_cannot_go_below_the_seats_sold_and_held(adult):
    slot = slot_at(TUESDAY, capacity=10)
    sell(slot, adult, 2)
    hold(slot, adult, 3)
    client = office()

    below = client.patch(f"{SLOTS}{slot.pk}/", {"capacity": 4}, format="json")

    assert refusal(below) == (409, "capacity_below_taken", [("capacity", "capacity_below_taken")])
    slot.refresh_from_db()
    assert slot.capacity == 10

    exactly = client.patch(f"{SLOTS}{slot.pk}/", {"capacity": 5}, format="json")

    assert exactly.status_code == 200, exactly.json()
    assert seats(exactly.json()) == (5, 2, 3, 0, False)


def test_closing_and_reopening_one_slot():
    slot = slot_at(TUESDAY)
    client = office()

    closed = client.patch(f"{SLOTS}{slot.pk}/", {"is_closed": True}, format="json")

    assert (closed.status_code, closed.json()["is_closed"], closed.json()["bookable"]) == (
        200,
        True,
        False,
    )
    reopened = client.patch(f"{SLOTS}{slot.pk}/", {"is_closed": False}, format="json")
    assert (reopened.json()["is_closed"], reopened.json()["bookable"]) == (False, True)


def test_a_slots_sales_cannot_be_patched():
    slot = slot_at(TUESDAY)

    response = office().patch(f"{SLOTS}{slot.pk}/", {"sold": 50}, format="json")

    assert refusal(response) == (400, "validation_error", [("sold", "unknown_field")])
    slot.refresh_from_db()
    assert slot.sold == 0


@pytest.mark.parametrize("role", ["anonymous", "visitor", Role.GATE_STAFF, Role.FINANCE])
def test_only_the_ticket_office_changes_slots(role):
    slot = slot_at(TUESDAY, capacity=85)
    client = caller(role)

    response = client.patch(f"{SLOTS}{slot.pk}/", {"capacity": 1, "is_closed": True}, format="json")

    assert refusal(response) == refused(role)
    slot.refresh_from_db()
    assert (slot.capacity, slot.is_closed) == (85, False)
    assert client.get(f"{SLOTS}{slot.pk}/").json()["remaining"] == 85
