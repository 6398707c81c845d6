"""Review 10: a refund the gateway made, answered "409 busy, try again" (PostgreSQL: a real
row lock held by another transaction past LOCK_TIMEOUT_SECONDS)."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from apps.business.payments.models import Order, Refund, RefundStatus
from apps.integrations.payments.stripe import StripeGateway
from apps.support.security.roles import Role
from tests.helpers import client_for, staff_member
from tests.review10.helpers import two_line_order_paid_by_stripe

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.xfail(
    strict=True,
    reason="refund_request commits the intent and calls the gateway, then records the answer "
    "under the order lock (refunds.refund_record_answer -> lock_order). When that lock is not "
    "had within LOCK_TIMEOUT_SECONDS the API answers 409 `busy` (a 'try again' answer, which "
    "api/idempotency does not keep) although the money already moved: the client's retry with "
    "the same Idempotency-Key runs for real and Stripe refunds a second time; the first "
    "refund stays `pending` with no gateway id.",
)
def test_a_refund_made_by_the_gateway_is_not_answered_busy_and_refunded_again(
    user,
    fake_stripe,
    api_client,
    monkeypatch,
):
    finance = client_for(staff_member(Role.FINANCE))
    order = two_line_order_paid_by_stripe(user, fake_stripe, api_client)
    stripe_refund = StripeGateway.refund
    holders: list[threading.Thread] = []
    holding = threading.Event()

    def hold_the_order(order_id: int) -> None:
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=order_id)
                holding.set()
                time.sleep(settings.LOCK_TIMEOUT_SECONDS + 1.5)
        finally:
            connections.close_all()

    def refund_while_somebody_holds_the_order(self, **kwargs):
        result = stripe_refund(self, **kwargs)
        if not holders:  # e.g. a check-in, a payment or another refund of this order
            holder = threading.Thread(target=hold_the_order, args=(order.pk,))
            holders.append(holder)
            holder.start()
            assert holding.wait(30)
        return result

    monkeypatch.setattr(StripeGateway, "refund", refund_while_somebody_holds_the_order)
    key = {"Idempotency-Key": "refund-1000-once"}
    url = f"/api/v1/payments/orders/{order.pk}/refunds/"
    first = finance.post(url, {"amount": "1000.00"}, format="json", headers=key)
    for holder in holders:
        holder.join(60)
    second = finance.post(url, {"amount": "1000.00"}, format="json", headers=key)

    answers = [
        (first.status_code, first.json().get("code") or first.json().get("status")),
        (second.status_code, second.json().get("code") or second.json().get("status")),
    ]
    assert len(fake_stripe.refunds) == 1, (
        answers,
        list(Refund.objects.values_list("amount", "status", "gateway_reference")),
    )
    assert Refund.objects.filter(status=RefundStatus.PENDING, gateway_reference="").count() == 0
