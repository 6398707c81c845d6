"""Paying for a hold that ran out takes its seats again only while they are free: exactly at
the boundary (one seat wanted, one seat free, or none) on a slot of one seat."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.payments.models import Order, OrderStatus, Payment, PaymentStatus
from apps.business.tickets import handlers
from apps.business.tickets.models import Reservation, Ticket, TicketStatus, TimeSlot
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for
from tests.sales import ScriptedClock, paid_order, place_order, run_out_hold

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def pay(user, order):
    return client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")


def valid_tickets() -> list[tuple[int, int]]:
    """(order id, slot id) of every valid ticket."""
    return sorted(
        Ticket.objects.filter(status=TicketStatus.VALID).values_list("order_id", "slot_id")
    )


@pytest.mark.parametrize("other_has", ["a live hold", "paid"])
def test_the_last_seat_taken_by_someone_else_is_not_sold_again(other_has):
    slot, adult = TimeSlotFactory(capacity=1), TicketTypeFactory(price=Decimal("2900.00"))
    ana, ben = UserFactory(), UserFactory()
    late = place_order(ana, slot, adult, 1)
    run_out_hold(late)
    if other_has == "paid":
        other = paid_order(ben, slot, adult, 1)
    else:
        other = place_order(ben, slot, adult, 1)

    response = pay(ana, late)

    assert (response.status_code, response.json()["code"]) == (409, "sold_out")
    assert response.json()["message"].startswith("Solo quedan 0 cupos para el ")
    late.refresh_from_db()
    assert late.status == OrderStatus.PENDING
    payment = Payment.objects.get(order=late)
    refund = payment.refunds.get()
    assert (payment.status, refund.amount, refund.currency, refund.status) == (
        PaymentStatus.REFUNDED,
        Decimal("2900.00"),
        "CRC",
        "succeeded",
    )
    if other_has == "a live hold":
        assert pay(ben, other).status_code == 200
    assert valid_tickets() == [(other.pk, slot.pk)]
    assert TimeSlot.objects.get(pk=slot.pk).sold == 1


@pytest.mark.parametrize(("capacity", "sold_before"), [(1, 0), (2, 1)])
def test_a_run_out_hold_takes_the_one_seat_that_is_still_free(capacity, sold_before):
    slot, adult = TimeSlotFactory(capacity=capacity), TicketTypeFactory()
    earlier = [paid_order(UserFactory(), slot, adult, 1) for _ in range(sold_before)]
    ana = UserFactory()
    late = place_order(ana, slot, adult, 1)
    run_out_hold(late)

    response = pay(ana, late)

    body = response.json()
    assert (response.status_code, body.get("status", body.get("code"))) == (200, "paid")
    assert Payment.objects.get(order=late).status == PaymentStatus.SUCCEEDED
    assert valid_tickets() == sorted((order.pk, slot.pk) for order in [*earlier, late])
    assert TimeSlot.objects.get(pk=slot.pk).sold == capacity


@pytest.mark.parametrize("other_has", ["a live hold", "paid"])
def test_a_hold_that_runs_out_while_waiting_for_the_lock_finds_its_seat_taken(
    other_has, monkeypatch
):
    """Live when the settlement began, run out by the time it had the slot's lock: the seat
    was free for someone else meanwhile, and is not sold twice (docs/adr/0054)."""
    slot, adult = TimeSlotFactory(capacity=1), TicketTypeFactory(price=Decimal("2900.00"))
    ana, ben = UserFactory(), UserFactory()
    late = place_order(ana, slot, adult, 1)
    expires = timezone.now() + timedelta(minutes=5)  # before Ben's hold runs out
    run_out_hold(late)  # for a moment: Ben takes the seat
    other = (
        paid_order(ben, slot, adult, 1) if other_has == "paid" else place_order(ben, slot, adult, 1)
    )
    Order.objects.filter(pk=late.pk).update(expires_at=expires)
    Reservation.objects.filter(order=late).update(expires_at=expires)
    clock = ScriptedClock(
        before=expires - timedelta(minutes=1), after=expires + timedelta(seconds=1)
    )
    monkeypatch.setattr(handlers, "timezone", clock)

    response = pay(ana, late)

    assert (response.status_code, response.json()["code"]) == (409, "sold_out")
    assert response.json()["message"].startswith("Solo quedan 0 cupos para el ")
    assert clock.readings == []  # the hold was live at first, as the case requires
    payment = Payment.objects.get(order=late)
    assert (payment.status, payment.refunds.get().amount) == (
        PaymentStatus.REFUNDED,
        Decimal("2900.00"),
    )
    monkeypatch.undo()
    if other_has == "a live hold":
        assert pay(ben, other).status_code == 200
    assert valid_tickets() == [(other.pk, slot.pk)]
    assert TimeSlot.objects.get(pk=slot.pk).sold == 1
