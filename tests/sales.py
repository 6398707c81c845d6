"""Helpers for tests that sell tickets through the real services."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Order
from apps.business.tickets.models import Reservation


def ticket_lines(slot, ticket_type, quantity: int = 1) -> list[LineRequest]:
    return [
        LineRequest(
            kind="ticket",
            quantity=quantity,
            fields={"slot": slot.pk, "ticket_type": ticket_type.pk},
        )
    ]


def place_order(user, slot, ticket_type, quantity: int = 1) -> Order:
    return payments.order_create(actor=user, lines=ticket_lines(slot, ticket_type, quantity))


def paid_order(user, slot, ticket_type, quantity: int = 1) -> Order:
    order = place_order(user, slot, ticket_type, quantity)
    payments.order_pay(order=order, actor=user, method="sandbox")
    order.refresh_from_db()
    return order


def run_out_hold(order: Order) -> None:
    """Move the order's hold into the past, as if 15 minutes had gone by."""
    past = timezone.now() - timedelta(seconds=1)
    Order.objects.filter(pk=order.pk).update(expires_at=past)
    Reservation.objects.filter(order=order).update(expires_at=past)
    order.refresh_from_db()


def order_values(user, **odd: Any) -> dict[str, Any]:
    """What ``order_place`` gives ``Order`` for an online order of ``user``, changed by ``odd``."""
    return {
        "user": user,
        "email": "ana@example.org",
        "channel": "online",
        "currency": "CRC",
        "total": Decimal("8700.50"),
        "expires_at": timezone.now() + timedelta(minutes=15),
        "created_by": user,
        "guest_token_hash": "",
        **odd,
    }


class ScriptedClock:
    """A stand-in for a module's ``timezone`` whose ``now()`` answers ``before`` for its first
    ``readings`` calls, then ``after``: a settlement's readings before the slot's lock, then
    once it is had. Everything else is ``django.utils.timezone``'s."""

    def __init__(self, before: datetime, after: datetime, readings: int = 2) -> None:
        self.readings = [before] * readings
        self.after = after

    def now(self) -> datetime:
        return self.readings.pop(0) if self.readings else self.after

    def __getattr__(self, name: str) -> Any:
        return getattr(timezone, name)
