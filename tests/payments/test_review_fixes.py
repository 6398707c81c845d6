"""Regression tests for what the review of tickets and payments found (each failed before)."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.payments.models import Order, OrderStatus, Payment, PaymentStatus, Refund
from apps.business.tickets import handlers
from apps.business.tickets.models import Ticket, TicketStatus, TimeSlot
from apps.integrations.payments import RefundResult
from apps.integrations.payments.sandbox import SIGNATURE_HEADER, SandboxGateway
from apps.support.common.errors import ConflictError
from apps.support.common.models import IdempotencyKey
from apps.support.security.roles import Role
from tests.factories import TimeSlotFactory, UserFactory
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
    lock_slots = handlers._lock_slots

    def always_busy(slot_ids):
        raise ConflictError("busy", code="busy", retry_after=1)

    monkeypatch.setattr(handlers, "_lock_slots", always_busy)
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

    monkeypatch.setattr(handlers, "_lock_slots", lock_slots)
    resumed = client.post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")
    assert resumed.status_code == 200
    assert [p["status"] for p in resumed.json()["payments"]] == ["succeeded"]
    assert Payment.objects.count() == 1  # not charged twice
    assert Ticket.objects.filter(order=order).count() == 1


def test_a_refused_refund_rolls_the_whole_cancellation_back(user, adult, monkeypatch):
    start = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    start += timedelta(days=3)
    slot = TimeSlotFactory(starts_at=start, ends_at=start + timedelta(hours=1), date=start.date())
    order = paid_order(user, slot, adult, 2)
    refunds_asked = []

    def refuse(self, **kwargs):
        refunds_asked.append(kwargs)
        return RefundResult(succeeded=False, gateway_reference="", failure_message="card closed")

    monkeypatch.setattr(SandboxGateway, "refund", refuse)
    response = client_for(user).post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "refund_failed")
    assert len(refunds_asked) == 1
    order.refresh_from_db()
    assert (order.status, order.payments.get().status) == (
        OrderStatus.PAID,
        PaymentStatus.SUCCEEDED,
    )
    assert Refund.objects.count() == 0
    assert set(Ticket.objects.filter(order=order).values_list("status", flat=True)) == {
        TicketStatus.VALID
    }
    assert TimeSlot.objects.get(pk=slot.pk).sold == 2


def test_no_tickets_for_a_slot_closed_after_the_seats_were_held(user, slot, adult):
    order = place_order(user, slot, adult, 2)
    TimeSlot.objects.filter(pk=slot.pk).update(is_closed=True)
    response = client_for(user).post(
        f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "slot_closed")
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert Ticket.objects.count() == 0


def test_a_webhook_with_a_non_ascii_signature_is_refused_not_a_500(api_client):
    body = json.dumps({"id": "evt_1", "type": "payment.succeeded", "payment": "x"})
    response = post_webhook(
        api_client, {"body": body, "headers": {SIGNATURE_HEADER: f"t={int(time.time())},v1=éé"}}
    )
    assert (response.status_code, response.json()["code"]) == (400, "webhook_rejected")


def test_orders_take_json_only(user, slot, adult):
    response = client_for(user).post(
        ORDERS, {"lines": "x"}, format="multipart", headers={"Idempotency-Key": "m-1"}
    )
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert (Order.objects.count(), IdempotencyKey.objects.count()) == (0, 0)


def test_the_ticket_filter_does_not_tell_whether_someone_else_s_order_exists(user, slot, adult):
    others = paid_order(UserFactory(), slot, adult, 1)
    client = client_for(user)
    theirs = client.get("/api/v1/tickets/tickets/", {"order": others.pk})
    missing = client.get("/api/v1/tickets/tickets/", {"order": 987654})
    assert (theirs.status_code, theirs.json()["results"]) == (200, [])
    assert (missing.status_code, missing.json()["results"]) == (200, [])


def test_tickets_keep_the_price_that_was_charged(user, slot, adult):
    order = place_order(user, slot, adult, 1)
    adult.price = Decimal("3500.00")
    adult.save()
    client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")
    assert list(Ticket.objects.values_list("price", flat=True)) == [Decimal("2900.00")]


def test_an_abandoned_idempotency_key_is_claimed_again(user, slot, adult):
    from apps.support.common.idempotency import fingerprint

    body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]}
    IdempotencyKey.objects.create(
        user=user,
        key="dead-1",
        fingerprint=fingerprint(method="POST", path=ORDERS, body=body),
        created_at=timezone.now() - timedelta(minutes=6),
    )
    response = client_for(user).post(
        ORDERS, body, format="json", headers={"Idempotency-Key": "dead-1"}
    )
    assert response.status_code == 201
    assert IdempotencyKey.objects.get(key="dead-1").status_code == 201


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
