"""The same webhook event delivered ten times at once has one effect.

``meet_having_read_the_payment`` forces the interleaving that would settle twice: a delivery
that has read the payment (still pending) waits, before it writes anything, until another
delivery has read it too — or is seen waiting for the order's lock, which serialises them. The
control run reads the order and the payment without their locks.
"""

import json

import pytest
from django.db import connection

from apps.business.payments.models import Order, OrderStatus, Payment, WebhookEvent
from apps.business.payments.services import payments as payment_services
from apps.business.payments.services.common import lock_payment
from apps.business.tickets.models import Ticket, TimeSlot
from apps.support.audit.models import AuditEvent
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.payments.conftest import WEBHOOK
from tests.race import meet_after, race
from tests.sales import place_order

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DELIVERIES = 10


class PaymentRead:
    """How a delivery reads the payment it settles: locked, as the product does, or not."""

    read = staticmethod(lock_payment)


def meet_having_read_the_payment(monkeypatch):
    """Having read the payment, wait for a rival delivery (module docstring). Returns ``arm``."""
    arm = meet_after(monkeypatch, PaymentRead, "read", table="payments_order")
    monkeypatch.setattr(
        payment_services, "lock_payment", lambda payment_id: PaymentRead.read(payment_id)
    )
    return arm


def deliver_at_once(user, arm):
    order = place_order(user, TimeSlotFactory(capacity=10), TicketTypeFactory(), 2)
    payment = payment_services.order_pay(
        order=order, actor=user, method="sandbox", options={"outcome": "later"}
    )
    assert payment.next_action is not None
    arm()
    approve = payment.next_action["approve"]

    def deliver(client):
        response = client.generic(
            "POST",
            WEBHOOK,
            approve["body"],
            content_type="application/json",
            headers=approve["headers"],
        )
        return ("deliver", response.status_code, response.json().get("status", ""))

    return order, json.loads(approve["body"])["id"], race([deliver] * DELIVERIES, processes=2)


def test_ten_deliveries_at_once_settle_once(user, monkeypatch):
    order, event_id, results = deliver_at_once(user, meet_having_read_the_payment(monkeypatch))
    assert sorted(status for _kind, status, _answer in results) == [200] * DELIVERIES, results
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Ticket.objects.filter(order=order).count() == 2
    assert TimeSlot.objects.get().sold == 2
    event = WebhookEvent.objects.get(event_id=event_id)
    assert (event.status, event.deliveries) == ("processed", DELIVERIES)
    assert list(Payment.objects.values_list("status", flat=True)) == ["succeeded"]
    assert paid_entries(order) == 1


def paid_entries(order):
    """How many times the order was recorded as paid (and ``order_paid`` was sent)."""
    return AuditEvent.objects.filter(
        action="payments.order.paid", target_type="payments.order", target_id=str(order.pk)
    ).count()


def test_control_without_the_locks_two_deliveries_settle_the_order_twice(user, monkeypatch):
    monkeypatch.setattr(
        payment_services, "lock_order", lambda order_id: Order.objects.get(pk=order_id)
    )
    monkeypatch.setattr(
        PaymentRead, "read", staticmethod(lambda payment_id: Payment.objects.get(pk=payment_id))
    )
    order, _event_id, _results = deliver_at_once(user, meet_having_read_the_payment(monkeypatch))
    # The second settlement waits for the first one's write of the payment, then sends
    # ``order_paid`` again; only the tickets' own check (holds already confirmed) stops it
    # from issuing them twice.
    assert paid_entries(order) > 1
    assert Ticket.objects.filter(order=order).count() == 2
