"""Paying: the sandbox gateway's approve, decline and confirm-later paths, webhooks, paying
after the hold ran out, and the Idempotency-Key header."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from apps.business.payments import services as payments
from apps.business.payments.models import (
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    WebhookEvent,
)
from apps.business.payments.services import order_cancel
from apps.business.tickets.models import Ticket, TimeSlot
from apps.integrations.payments.sandbox import SIGNATURE_HEADER, sign
from apps.support.common.idempotency import fingerprint
from apps.support.common.models import IdempotencyKey
from tests.factories import UserFactory
from tests.helpers import client_for
from tests.payments.conftest import post_webhook
from tests.sales import place_order, run_out_hold

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def pay(client, order, **body):
    return client.post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox", **body}, format="json")


def test_a_declined_payment_leaves_the_order_payable(user, slot, adult):
    order = place_order(user, slot, adult, 2)
    client = client_for(user)
    declined = pay(client, order, sandbox={"outcome": "decline"})
    assert declined.status_code == 402
    assert declined.json()["code"] == "payment_declined"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert list(Payment.objects.values_list("status", "failure_code")) == [
        ("failed", "card_declined")
    ]
    assert Ticket.objects.count() == 0

    approved = pay(client, order)
    assert approved.status_code == 200
    assert [p["status"] for p in approved.json()["payments"]] == ["failed", "succeeded"]
    assert Ticket.objects.filter(order=order).count() == 2


def test_paying_twice_is_refused(user, slot, adult):
    order = place_order(user, slot, adult)
    client = client_for(user)
    assert pay(client, order).status_code == 200
    again = pay(client, order)
    assert (again.status_code, again.json()["code"]) == (409, "order_already_paid")
    assert Payment.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_a_gateway_that_is_not_enabled_is_refused(user, slot, adult, settings):
    order = place_order(user, slot, adult)
    response = pay(client_for(user), order, gateway="stripe")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("gateway", "unknown_gateway")
    ]
    assert Payment.objects.count() == 0


def test_confirm_later_then_the_sandbox_webhook_pays_once(
    api_client, user, slot, adult, django_capture_on_commit_callbacks
):
    order = place_order(user, slot, adult, 2)
    started = pay(client_for(user), order, sandbox={"outcome": "later"})
    assert started.status_code == 202
    payment = started.json()["payments"][0]
    assert (started.json()["status"], payment["status"]) == ("pending", "pending")
    next_action = payment["next_action"]
    assert next_action["type"] == "sandbox_webhook"
    # While the bank confirms, paying again asks the gateway where the payment stands (the
    # sandbox still waits for its webhook): the same attempt, no second charge.
    again = pay(client_for(user), order)
    assert again.status_code == 202
    assert [(p["id"], p["status"]) for p in again.json()["payments"]] == [
        (payment["id"], "pending")
    ]

    with django_capture_on_commit_callbacks(execute=True):
        delivered = post_webhook(api_client, next_action["approve"])
    assert delivered.status_code == 200
    assert delivered.json()["status"] == "processed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Ticket.objects.filter(order=order).count() == 2
    assert len(mail.outbox) == 1

    # The gateway delivers the same event again: nothing changes, the delivery is counted.
    repeated = post_webhook(api_client, next_action["approve"])
    assert (repeated.status_code, repeated.json()["status"]) == (200, "processed")
    assert WebhookEvent.objects.get().deliveries == 2
    assert Ticket.objects.filter(order=order).count() == 2
    assert len(mail.outbox) == 1


def test_a_declining_webhook_fails_the_pending_payment(api_client, user, slot, adult):
    order = place_order(user, slot, adult)
    started = pay(client_for(user), order, sandbox={"outcome": "later"})
    decline = started.json()["payments"][0]["next_action"]["decline"]
    assert post_webhook(api_client, decline).status_code == 200
    order.refresh_from_db()
    assert (order.status, order.payments.get().status) == ("pending", "failed")
    assert pay(client_for(user), order).status_code == 200


def test_a_webhook_with_a_bad_signature_is_refused_and_not_stored(api_client, user, slot, adult):
    order = place_order(user, slot, adult)
    started = pay(client_for(user), order, sandbox={"outcome": "later"})
    approve = started.json()["payments"][0]["next_action"]["approve"]
    forged = {
        "body": approve["body"],
        "headers": {SIGNATURE_HEADER: sign("wrong", approve["body"].encode(), int(time.time()))},
    }
    stale = {
        "body": approve["body"],
        "headers": {
            SIGNATURE_HEADER: sign(
                "sandbox-webhook-secret-not-for-production",
                approve["body"].encode(),
                int(time.time()) - 301,
            )
        },
    }
    tampered = {
        "body": approve["body"].replace("succeeded", "failed"),
        "headers": approve["headers"],
    }
    for delivery in (forged, stale, tampered, {"body": approve["body"], "headers": {}}):
        response = post_webhook(api_client, delivery)
        assert (response.status_code, response.json()["code"]) == (400, "webhook_rejected")
    assert WebhookEvent.objects.count() == 0
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_an_unknown_payment_reference_is_kept_and_tried_again_until_the_window_ends(
    api_client, settings
):
    body = json.dumps({"id": "evt_x", "type": "payment.succeeded", "payment": "sbx_pay_nobody"})
    headers = {
        SIGNATURE_HEADER: sign(
            settings.PAYMENTS_SANDBOX_WEBHOOK_SECRET, body.encode(), int(time.time())
        )
    }
    before = timezone.now()
    response = post_webhook(api_client, {"body": body, "headers": headers})
    # Perhaps earlier than its payment's record: failed for now, tried again after a backoff.
    assert response.json() == {"event_id": "evt_x", "status": "failed"}
    event = WebhookEvent.objects.get()
    assert (event.status, event.last_error, event.attempts) == (
        "failed",
        "no payment with this reference",
        1,
    )
    assert event.next_attempt_at is not None
    assert before + timedelta(minutes=2) <= event.next_attempt_at
    assert event.next_attempt_at <= timezone.now() + timedelta(minutes=2, seconds=25)
    # Nothing is due yet; when the gateway would have stopped retrying, it is ignored.
    assert payments.webhook_events_retry_due() == 0
    WebhookEvent.objects.update(received_at=before - timedelta(days=3, minutes=1))
    assert payments.webhook_events_retry_due(now=timezone.now() + timedelta(hours=1)) == 1
    event.refresh_from_db()
    assert (event.status, event.last_error, event.attempts, event.next_attempt_at) == (
        "ignored",
        "no payment with this reference",
        2,
        None,
    )


def test_paying_after_the_hold_ran_out_takes_free_seats_again(user, slot, adult):
    order = place_order(user, slot, adult, 2)
    run_out_hold(order)
    response = pay(client_for(user), order)
    assert response.status_code == 200
    assert TimeSlot.objects.get(pk=slot.pk).sold == 2


def test_paying_after_the_hold_ran_out_and_the_seats_were_sold_refunds(user, slot, adult):
    late = place_order(user, slot, adult, 2)
    run_out_hold(late)
    place_order(UserFactory(), slot, adult, 4)  # the freed seats are held by someone else
    response = pay(client_for(user), late)
    assert (response.status_code, response.json()["code"]) == (409, "sold_out")
    payment = Payment.objects.get(order=late)
    assert (payment.status, payment.refunds.get().amount) == (
        PaymentStatus.REFUNDED,
        Decimal("5800.00"),
    )
    assert Ticket.objects.count() == 0
    assert TimeSlot.objects.get(pk=slot.pk).sold == 0


def test_an_idempotency_key_replays_the_first_answer_and_creates_nothing_new(user, slot, adult):
    client = client_for(user)
    body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]}
    first = client.post(ORDERS, body, format="json", headers={"Idempotency-Key": "k-1"})
    retry = client.post(ORDERS, body, format="json", headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1

    other_body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 2}]}
    reused = client.post(ORDERS, other_body, format="json", headers={"Idempotency-Key": "k-1"})
    assert (reused.status_code, reused.json()["code"]) == (400, "idempotency_key_reused")
    assert Order.objects.count() == 1

    # Keys belong to their caller: someone else's "k-1" is a new request.
    stranger = client_for(UserFactory())
    assert (
        stranger.post(ORDERS, body, format="json", headers={"Idempotency-Key": "k-1"}).status_code
        == 201
    )
    assert Order.objects.count() == 2

    order_id = first.json()["id"]
    paid = client.post(
        f"{ORDERS}{order_id}/pay/",
        {"gateway": "sandbox"},
        format="json",
        headers={"Idempotency-Key": "p-1"},
    )
    paid_again = client.post(
        f"{ORDERS}{order_id}/pay/",
        {"gateway": "sandbox"},
        format="json",
        headers={"Idempotency-Key": "p-1"},
    )
    assert (paid.status_code, paid_again.status_code) == (200, 200)
    assert paid_again.json() == paid.json()
    assert Payment.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_definitive_errors_are_replayed_and_retryable_ones_are_not(user, slot, adult):
    client = client_for(user)
    declined = place_order(user, slot, adult)
    body = {"gateway": "sandbox", "sandbox": {"outcome": "decline"}}
    first = client.post(
        f"{ORDERS}{declined.pk}/pay/", body, format="json", headers={"Idempotency-Key": "d-1"}
    )
    again = client.post(
        f"{ORDERS}{declined.pk}/pay/", body, format="json", headers={"Idempotency-Key": "d-1"}
    )
    assert (first.status_code, again.status_code) == (402, 402)
    assert again.json() == first.json()
    assert Payment.objects.count() == 1  # the retry did not try the card again

    # A sold-out answer is definitive: the retry gets it again, even once seats are free.
    sold_out_body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 4}]}
    full = client.post(ORDERS, sold_out_body, format="json", headers={"Idempotency-Key": "s-1"})
    assert (full.status_code, full.json()["code"]) == (409, "sold_out")
    order_cancel(order=Order.objects.get(pk=declined.pk), actor=user)
    replay = client.post(ORDERS, sold_out_body, format="json", headers={"Idempotency-Key": "s-1"})
    assert (replay.status_code, replay.json()) == (409, full.json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_a_busy_answer_is_not_kept_and_the_retry_runs(user, slot, adult, monkeypatch):
    from apps.business.tickets import handlers
    from apps.support.common.errors import ConflictError

    lock_slots = handlers._lock_slots
    calls = []

    def busy_once(slot_ids):
        calls.append(slot_ids)
        if len(calls) == 1:
            raise ConflictError("busy", code="busy", retry_after=1)
        return lock_slots(slot_ids)

    monkeypatch.setattr(handlers, "_lock_slots", busy_once)
    client = client_for(user)
    body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]}
    first = client.post(ORDERS, body, format="json", headers={"Idempotency-Key": "b-1"})
    assert (first.status_code, first.json()["code"], first.headers["Retry-After"]) == (
        409,
        "busy",
        "1",
    )
    assert Order.objects.count() == 0
    retry = client.post(ORDERS, body, format="json", headers={"Idempotency-Key": "b-1"})
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers
    assert Order.objects.count() == 1


def test_a_retry_while_the_first_request_runs_answers_409(user, slot, adult):
    body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]}
    # The first request with this key has claimed it and not finished yet.
    IdempotencyKey.objects.create(
        user=user, key="busy-1", fingerprint=fingerprint(method="POST", path=ORDERS, body=body)
    )
    response = client_for(user).post(
        ORDERS, body, format="json", headers={"Idempotency-Key": "busy-1"}
    )
    assert (response.status_code, response.json()["code"]) == (409, "idempotency_key_in_use")
    assert response.headers["Retry-After"] == "1"
    assert Order.objects.count() == 0
