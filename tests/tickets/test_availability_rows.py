"""The availability list is read in one hand-written query: it answers exactly what the ORM
query and ``SlotSerializer`` answer, on every database, for every kind of slot and page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.v1.tickets.serializers import SlotSerializer
from apps.business.payments.models import Order
from apps.business.tickets import selectors
from apps.business.tickets.models import Reservation
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.helpers import client_for
from tests.sales import paid_order, place_order

pytestmark = pytest.mark.django_db

SLOTS = "/api/v1/tickets/slots/"


@pytest.fixture
def day_of_slots(user, settings):
    """Today's slots of every kind, and one of tomorrow."""
    settings.READ_CACHE_SECONDS = 0
    adult = TicketTypeFactory(code="adult")
    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate(now)
    starts = [now - timedelta(hours=3, minutes=7 * n) for n in range(3)] + [
        now + timedelta(minutes=13 * n + 1) for n in range(7)
    ]
    slots = [
        TimeSlotFactory(date=today, starts_at=at, ends_at=at + timedelta(hours=1), capacity=5)
        for at in starts
    ]
    tomorrow = now + timedelta(days=1)
    TimeSlotFactory(
        date=timezone.localdate(tomorrow), starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=1)
    )
    open_now = slots[3:]
    place_order(user, open_now[0], adult, 2)  # held
    paid_order(user, open_now[0], adult, 1)  # sold
    paid_order(user, open_now[1], adult, 5)  # sold out
    ran_out = place_order(user, open_now[2], adult, 4)  # a hold that ran out
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk=ran_out.pk).update(expires_at=past)
    Reservation.objects.filter(order=ran_out).update(expires_at=past)
    place_order(user, open_now[3], adult, 5)  # sold out by holds
    open_now[4].is_closed = True
    open_now[4].save()
    return today


def orm_answer(**days):
    return [
        dict(row) for row in SlotSerializer(selectors.slot_availability(**days), many=True).data
    ]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"page_size": 4},
        {"page_size": 4, "page": 2},
        {"page_size": 4, "page": 3},
        {"page_size": 100},
    ],
)
def test_the_list_answers_what_the_serializer_answers(day_of_slots, user, query):
    answer = client_for(user).get(SLOTS, query)

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    expected = orm_answer(date_from=day_of_slots, date_to=day_of_slots)
    size = query.get("page_size", 25)
    page = query.get("page", 1)
    assert body["count"] == len(expected) == 10
    assert body["results"] == expected[(page - 1) * size : page * size]
    assert [(s["held"], s["sold"], s["remaining"], s["bookable"]) for s in expected] == [
        (0, 0, 5, False),
        (0, 0, 5, False),
        (0, 0, 5, False),
        (2, 1, 2, True),
        (0, 5, 0, False),
        (0, 0, 5, True),
        (5, 0, 0, False),
        (0, 0, 5, False),
        (0, 0, 5, True),
        (0, 0, 5, True),
    ]


def test_a_range_of_days_and_a_day_without_slots(day_of_slots, user):
    client = client_for(user)
    tomorrow = day_of_slots + timedelta(days=1)
    both = client.get(SLOTS, {"date_from": day_of_slots, "date_to": tomorrow}).json()
    assert both["results"] == orm_answer(date_from=day_of_slots, date_to=tomorrow)
    assert both["count"] == 11
    empty = client.get(SLOTS, {"date": day_of_slots + timedelta(days=2)}).json()
    assert empty == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("page", ["4", "1000000", "99999999999", str(2**62), str(2**70)])
def test_a_page_past_the_last_is_a_404(day_of_slots, user, page):
    answer = client_for(user).get(SLOTS, {"page_size": 4, "page": page})

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("page", "code"),
    [
        ("0", "min_value"),
        ("-1", "min_value"),
        ("x", "invalid"),
        ("last", "invalid"),
        ("1.5", "invalid"),
    ],
)
def test_a_page_that_is_not_a_whole_number_from_1_is_refused(day_of_slots, user, page, code):
    answer = client_for(user).get(SLOTS, {"page_size": 4, "page": page})

    assert answer.status_code == 400
    assert [(e["field"], e["code"]) for e in answer.json()["errors"]] == [("page", code)]
