"""Refunds asked for at once never give back more than was captured.

``checks_meet`` makes the interleaving that over-refunds certain, not lucky: after reading what
is left to refund, a refund waits until another one has read it too — or is seen waiting for
the order's lock, which serialises them. Without the lock (the control run) every refund reads
the whole amount as still refundable, and the park pays back more than it took.
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework_simplejwt.tokens import AccessToken

from apps.business.payments.models import Order, Refund, RefundStatus
from apps.business.payments.services import refunds
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.helpers import staff_member
from tests.race import meet_after, post_retrying, race
from tests.sales import paid_order

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REFUNDERS = 6


@pytest.fixture
def checks_meet(monkeypatch):
    """After reading what is left to refund, wait for a rival reader (module docstring)."""
    meet_after(monkeypatch, refunds, "refundable_amount", table="payments_order", armed=True)


def race_refunds(
    user, *, refunders: int = REFUNDERS, amount: str = "2000.00"
) -> tuple[Order, list[tuple[str, int, str]]]:
    ticket_type = TicketTypeFactory(price=Decimal("1000.00"))
    order = paid_order(user, TimeSlotFactory(capacity=10), ticket_type, 5)  # 5,000.00 paid
    token = str(AccessToken.for_user(staff_member(Role.FINANCE)))

    def refund(client):
        response = post_retrying(
            client,
            f"/api/v1/payments/orders/{order.pk}/refunds/",
            {"amount": amount},
            token,
        )
        body = response.json()
        return ("refund", response.status_code, body.get("status") or body["code"])

    return order, race([refund] * refunders, processes=2)


def refunded_total(order: Order) -> Decimal:
    return Refund.objects.filter(payment__order=order, status=RefundStatus.SUCCEEDED).aggregate(
        total=Sum("amount")
    )["total"]


def test_six_refunds_of_2000_at_once_on_5000_paid_give_back_4000(user, checks_meet):
    order, results = race_refunds(user)
    answers = sorted((status, code) for _kind, status, code in results)
    assert answers == [(201, "succeeded")] * 2 + [(409, "refund_exceeds_captured")] * 4, results
    assert refunded_total(order) == Decimal("4000.00")
    assert Refund.objects.filter(payment__order=order).count() == 2


def test_control_without_the_order_lock_refunds_more_than_was_paid(user, checks_meet, monkeypatch):
    """Proves the lock is what the test above relies on: two refunds of 3,000 on 5,000 paid,
    the order read without its lock. (Two, not six: with six, the losers of the race for the
    audit chain head time out, retry, and then read the truth.)"""
    monkeypatch.setattr(refunds, "lock_order", lambda order_id: Order.objects.get(pk=order_id))
    order, results = race_refunds(user, refunders=2, amount="3000.00")
    assert sorted(results) == [("refund", 201, "succeeded")] * 2
    assert refunded_total(order) == Decimal("6000.00")  # more than the 5,000.00 paid


def test_with_the_lock_one_of_two_refunds_of_3000_on_5000_paid_goes_through(user, checks_meet):
    order, results = race_refunds(user, refunders=2, amount="3000.00")
    assert sorted(results) == [
        ("refund", 201, "succeeded"),
        ("refund", 409, "refund_exceeds_captured"),
    ]
    assert refunded_total(order) == Decimal("3000.00")
