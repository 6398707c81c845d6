"""The conditional UPDATE that sells a live hold (``_sell_held``, docs/adr/0054): what it must
refuse when the slot changed between the hold and the payment."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.payments.models import Order, Payment, PaymentStatus
from apps.business.tickets import handlers
from apps.business.tickets import services as tickets
from apps.business.tickets.models import Reservation, Ticket, TimeSlot
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for, staff_member
from tests.sales import ScriptedClock, place_order, run_out_hold

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def pay(user, order):
    return client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")


def test_capacity_lowered_below_a_hold_that_ran_out_during_the_wait_is_sold_out(monkeypatch):
    """Ana's hold of 2 is live when her settlement begins and has run out by the time it has the
    slot: meanwhile the back office lowered the capacity to 1 (allowed, the hold had run out).
    ``capacity - 2`` is negative: on MariaDB an UNSIGNED column minus 2 is an out-of-range
    error, not a false condition. Expected: 409 sold_out and a refund, on every database."""
    slot, adult = TimeSlotFactory(capacity=2), TicketTypeFactory(price=Decimal("100.00"))
    ana = UserFactory()
    late = place_order(ana, slot, adult, 2)
    expires = timezone.now() + timedelta(minutes=5)
    run_out_hold(late)
    tickets.slot_update(slot=slot, actor=staff_member(Role.ADMINISTRATOR), capacity=1)
    Order.objects.filter(pk=late.pk).update(expires_at=expires)
    Reservation.objects.filter(order=late).update(expires_at=expires)
    monkeypatch.setattr(
        handlers,
        "timezone",
        ScriptedClock(before=expires - timedelta(minutes=1), after=expires + timedelta(seconds=1)),
    )

    response = pay(ana, late)

    assert (response.status_code, response.json()["code"]) == (409, "sold_out")
    assert Payment.objects.get(order=late).status == PaymentStatus.REFUNDED
    assert Ticket.objects.count() == 0
    assert TimeSlot.objects.get(pk=slot.pk).sold == 0


def test_a_slot_closed_after_the_hold_while_paying_is_not_sold(monkeypatch):
    """The slot is closed by the back office (through its service) between the hold and the
    settlement's conditional update: no tickets, slot_closed, a refund."""
    slot, adult = TimeSlotFactory(capacity=3), TicketTypeFactory(price=Decimal("100.00"))
    ana = UserFactory()
    order = place_order(ana, slot, adult, 1)
    real = handlers.update_locked

    def closed_just_before(queryset, **values):
        tickets.slot_update(
            slot=TimeSlot.objects.get(pk=slot.pk),
            actor=staff_member(Role.ADMINISTRATOR),
            is_closed=True,
        )
        return real(queryset, **values)

    monkeypatch.setattr(handlers, "update_locked", closed_just_before)

    response = pay(ana, order)

    assert (response.status_code, response.json()["code"]) == (409, "slot_closed")
    assert Payment.objects.get(order=order).status == PaymentStatus.REFUNDED
    assert Ticket.objects.count() == 0
    assert TimeSlot.objects.get(pk=slot.pk).sold == 0
