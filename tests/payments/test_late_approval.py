"""A first payment that failed, a second that paid the order, then the gateway's late
approval of the first: the first is refunded, and the order keeps one set of tickets."""

import json
from decimal import Decimal

import pytest

from apps.business.payments.models import (
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    WebhookEvent,
    WebhookStatus,
)
from apps.business.tickets.models import Ticket, TicketStatus, TimeSlot
from apps.integrations.payments import get_gateway
from tests.helpers import client_for
from tests.payments.conftest import post_webhook
from tests.sales import place_order

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def pay(client, order, outcome="approve"):
    return client.post(
        f"{ORDERS}{order.pk}/pay/",
        {"gateway": "sandbox", "sandbox": {"outcome": outcome}},
        format="json",
    )


def fail_first_payment(api_client, client, order, how) -> dict:
    """The first payment fails; returns the gateway's later approval of it (a delivery)."""
    if how == "declined at once":
        assert pay(client, order, "decline").status_code == 402
        first = Payment.objects.get(order=order)
        gateway = get_gateway("sandbox")
        assert gateway is not None
        return gateway.signed_event(first.gateway_reference, "payment.succeeded")
    started = pay(client, order, "later")
    assert started.status_code == 202  # pending: the gateway confirms later
    action = started.json()["payments"][0]["next_action"]
    assert post_webhook(api_client, action["decline"]).json()["status"] == "processed"
    return action["approve"]


@pytest.mark.parametrize("how", ["declined at once", "declined by webhook"])
def test_a_late_approval_of_a_failed_payment_after_another_paid_is_refunded(
    api_client, user, slot, adult, how
):
    order = place_order(user, slot, adult, 2)
    client = client_for(user)
    late_approval = fail_first_payment(api_client, client, order, how)
    first = Payment.objects.get(order=order)
    assert first.status == PaymentStatus.FAILED

    second = pay(client, order)
    assert (second.status_code, second.json()["status"]) == (200, "paid")
    tickets = sorted(Ticket.objects.filter(order=order).values_list("pk", flat=True))
    assert len(tickets) == 2

    response = post_webhook(api_client, late_approval)

    assert (response.status_code, response.json()["status"]) == (200, "processed")
    event = WebhookEvent.objects.get(event_id=json.loads(late_approval["body"])["id"])
    assert (event.status, event.gateway_reference) == (
        WebhookStatus.PROCESSED,
        first.gateway_reference,
    )
    first.refresh_from_db()
    assert first.status == PaymentStatus.REFUNDED
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount, refund.currency, refund.status) == (
        first.pk,
        Decimal("5800.00"),
        "CRC",
        "succeeded",
    )
    assert refund.gateway_reference.startswith("sbx_ref_")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert [(p.pk, p.status) for p in order.payments.order_by("pk")] == [
        (first.pk, PaymentStatus.REFUNDED),
        (second.json()["payments"][1]["id"], PaymentStatus.SUCCEEDED),
    ]
    # One set of tickets, the same as before, all valid; two seats sold.
    assert (
        sorted(
            Ticket.objects.filter(order=order, status=TicketStatus.VALID).values_list(
                "pk", flat=True
            )
        )
        == tickets
    )
    assert Ticket.objects.count() == 2
    assert TimeSlot.objects.get(pk=slot.pk).sold == 2
