"""``held_seats`` is written by hand (docs/adr/0053): it must count what the ORM counts."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from apps.business.tickets.models import Reservation, ReservationStatus
from apps.business.tickets.selectors import held_seats
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.sales import place_order

pytestmark = pytest.mark.django_db


def orm_count(slot_ids, now):
    rows = (
        Reservation.objects.filter(
            slot_id__in=slot_ids, status=ReservationStatus.HELD, expires_at__gt=now
        )
        .values("slot_id")
        .annotate(seats=Sum("quantity"))
    )
    return {row["slot_id"]: row["seats"] for row in rows}


def test_held_seats_counts_live_holds_only_per_slot():
    visitor, ticket_type = UserFactory(), TicketTypeFactory()
    first, second, third = (TimeSlotFactory(capacity=100) for _ in range(3))
    for slot, quantity in ((first, 2), (first, 3), (second, 4), (second, 1), (third, 5)):
        place_order(visitor, slot, ticket_type, quantity)
    now = timezone.now()
    second_holds = Reservation.objects.filter(slot=second).order_by("id")
    # One hold of the second slot ran out a microsecond ago, one of the first was confirmed,
    # the third slot's was released.
    Reservation.objects.filter(pk=second_holds[0].pk).update(
        expires_at=now - timedelta(microseconds=1)
    )
    first_hold = Reservation.objects.filter(slot=first).order_by("id").first()
    Reservation.objects.filter(pk=first_hold.pk).update(status=ReservationStatus.CONFIRMED)
    Reservation.objects.filter(slot=third).update(status=ReservationStatus.RELEASED)

    slots = [first.pk, second.pk, third.pk, 10**9]
    assert held_seats(slot_ids=slots, now=now) == {first.pk: 3, second.pk: 1}
    assert held_seats(slot_ids=slots, now=now) == orm_count(slots, now)
    assert held_seats(slot_ids=[second.pk], now=now - timedelta(seconds=1)) == {second.pk: 5}
    later = now + timedelta(days=1)
    assert held_seats(slot_ids=slots, now=later) == {} == orm_count(slots, later)
    assert held_seats(slot_ids=[], now=now) == {}
