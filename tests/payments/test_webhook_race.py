"""The same webhook event delivered ten times at once has one effect.

``checks_meet`` forces the interleaving that would settle twice: a delivery that has found the
payment still pending waits until another delivery has found it too — or is seen waiting for
the order's lock, which serialises them. The control run takes that lock away.
"""

import json

import pytest
from django.db import connection

from apps.business.payments.models import Order, OrderStatus, Payment, WebhookEvent
from apps.business.payments.services import payments as payment_services
from apps.business.tickets.models import Ticket, TimeSlot
from apps.support.common.locking import lock_rows
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.payments.conftest import WEBHOOK
from tests.race import meet_after, race
from tests.sales import place_order

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

DELIVERIES = 10


@pytest.fixture
def checks_meet(monkeypatch):
    """Having found the payment pending, wait for a rival delivery (module docstring)."""
    meet_after(monkeypatch, payment_services, "handlers_for", table="payments_order", armed=True)


def deliver_at_once(user):
    order = place_order(user, TimeSlotFactory(capacity=10), TicketTypeFactory(), 2)
    payment = payment_services.order_pay(
        order=order, actor=user, method="sandbox", options={"outcome": "later"}
    )
    assert payment.next_action is not None
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


def test_ten_deliveries_at_once_settle_once(user, checks_meet):
    order, event_id, results = deliver_at_once(user)
    assert sorted(status for _kind, status, _answer in results) == [200] * DELIVERIES, results
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Ticket.objects.filter(order=order).count() == 2
    assert TimeSlot.objects.get().sold == 2
    event = WebhookEvent.objects.get(event_id=event_id)
    assert (event.status, event.deliveries) == ("processed", DELIVERIES)
    assert list(Payment.objects.values_list("status", flat=True)) == ["succeeded"]


def test_control_without_the_locks_two_deliveries_issue_tickets_twice(
    user, checks_meet, monkeypatch
):
    monkeypatch.setattr(
        payment_services, "lock_order", lambda order_id: Order.objects.get(pk=order_id)
    )
    monkeypatch.setattr(
        payment_services,
        "lock_rows",
        lambda queryset: list(queryset) if queryset.model is Payment else lock_rows(queryset),
    )
    order, _event_id, _results = deliver_at_once(user)
    assert Ticket.objects.filter(order=order).count() > 2
