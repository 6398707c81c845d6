"""Settling payments: late approvals, interrupted settlements, refunds asked last, orders
that can no longer be delivered, the price charged."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.payments.models import OrderStatus, Payment, PaymentStatus, Refund
from apps.business.tickets import handlers
from apps.business.tickets.models import Ticket, TicketStatus, TimeSlot
from apps.integrations.payments import RefundOutcome, RefundResult
from apps.integrations.payments.sandbox import SandboxGateway
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.factories import TimeSlotFactory
from tests.helpers import client_for, staff_member
from tests.payments.conftest import post_webhook
from tests.sales import paid_order, place_order, run_out_hold

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def test_a_declined_then_approved_payment_is_settled_not_kept(api_client, user, slot, adult):
    order = place_order(user, slot, adult, 2)
    started = client_for(user).post(
        f"{ORDERS}{order.pk}/pay/",
        {"gateway": "sandbox", "sandbox": {"outcome": "later"}},
        format="json",
    )
    action = started.json()["payments"][0]["next_action"]
    assert post_webhook(api_client, action["decline"]).json()["status"] == "processed"
    assert post_webhook(api_client, action["approve"]).json()["status"] == "processed"
    order.refresh_from_db()
    assert (order.status, order.payments.get().status) == (
        OrderStatus.PAID,
        PaymentStatus.SUCCEEDED,
    )
    assert Ticket.objects.filter(order=order).count() == 2


def test_an_interrupted_settlement_is_resumed_by_paying_again(user, slot, adult, monkeypatch):
    order = place_order(user, slot, adult, 1)
    update_locked = handlers.update_locked

    def always_busy(*args, **kwargs):
        raise ConflictError("busy", code="busy", retry_after=1)

    monkeypatch.setattr(handlers, "update_locked", always_busy)
    client = client_for(user)
    busy = client.post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")
    assert (busy.status_code, busy.json()["code"]) == (409, "busy")
    payment = Payment.objects.get()
    assert (payment.status, payment.gateway_outcome, payment.gateway_reference[:8]) == (
        "pending",
        "succeeded",
        "sbx_pay_",
    )
    assert client.post(f"{ORDERS}{order.pk}/cancel/", {}, format="json").status_code == 409

    monkeypatch.setattr(handlers, "update_locked", update_locked)
    resumed = client.post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")
    assert resumed.status_code == 200
    assert [p["status"] for p in resumed.json()["payments"]] == ["succeeded"]
    assert Payment.objects.count() == 1  # not charged twice
    assert Ticket.objects.filter(order=order).count() == 1


def test_a_refused_refund_keeps_the_cancellation_and_shows_failed_for_finance_to_retry(
    user, adult, monkeypatch
):
    """The visitor's cancellation stands (seats back, tickets void); the money owed is a
    failed refund, never a silent loss, and trying it again uses the same idempotency key."""
    start = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    start += timedelta(days=3)
    slot = TimeSlotFactory(starts_at=start, ends_at=start + timedelta(hours=1), date=start.date())
    order = paid_order(user, slot, adult, 2)
    refunds_asked = []

    def refuse(self, **kwargs):
        refunds_asked.append(kwargs)
        return RefundResult(
            outcome=RefundOutcome.FAILED, gateway_reference="", failure_message="card closed"
        )

    monkeypatch.setattr(SandboxGateway, "refund", refuse)
    response = client_for(user).post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert (response.status_code, response.json()["status"]) == (200, "canceled")
    [refund] = Refund.objects.all()
    assert (refund.status, refund.amount, refund.failure_message, refund.attempts) == (
        "failed",
        Decimal("5800.00"),
        "card closed",
        1,
    )
    assert [r["idempotency_key"] for r in refunds_asked] == [f"refund-{refund.pk}"]
    assert order.payments.get().status == PaymentStatus.SUCCEEDED  # the money is still held
    assert set(Ticket.objects.filter(order=order).values_list("status", flat=True)) == {
        TicketStatus.VOID
    }
    assert TimeSlot.objects.get(pk=slot.pk).sold == 0

    monkeypatch.undo()
    finance = client_for(staff_member(Role.FINANCE))
    retried = finance.post(f"/api/v1/payments/refunds/{refund.pk}/retry/", format="json")
    assert (retried.status_code, retried.json()["status"], retried.json()["attempts"]) == (
        200,
        "succeeded",
        2,
    )
    assert order.payments.get().status == PaymentStatus.REFUNDED
    again = finance.post(f"/api/v1/payments/refunds/{refund.pk}/retry/", format="json")
    assert (again.status_code, again.json()["code"]) == (409, "refund_not_retryable")


def test_no_tickets_for_a_slot_closed_after_the_seats_were_held(user, slot, adult):
    order = place_order(user, slot, adult, 2)
    TimeSlot.objects.filter(pk=slot.pk).update(is_closed=True)
    response = client_for(user).post(
        f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "slot_closed")
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert Ticket.objects.count() == 0


def test_tickets_keep_the_price_that_was_charged(user, slot, adult):
    order = place_order(user, slot, adult, 1)
    adult.price = Decimal("3500.00")
    adult.save()
    client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")
    assert list(Ticket.objects.values_list("price", flat=True)) == [Decimal("2900.00")]


def test_paying_an_expired_order_after_the_slot_ended_refunds(user, adult):
    start = timezone.now() - timedelta(minutes=30)
    slot = TimeSlotFactory(starts_at=start, ends_at=start + timedelta(minutes=45), capacity=4)
    order = place_order(user, slot, adult, 1)
    run_out_hold(order)
    TimeSlot.objects.filter(pk=slot.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    office = client_for(staff_member(Role.TICKET_OFFICE))
    response = office.post(f"{ORDERS}{order.pk}/pay/", {"gateway": "cash"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "slot_past")
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert Ticket.objects.count() == 0
