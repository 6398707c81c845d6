"""Stored webhook events for finance: listed, filtered, replayed; the gateways a front end
can use."""

import pytest

from apps.business.payments.models import OrderStatus, WebhookEvent
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member
from tests.payments.conftest import post_webhook
from tests.sales import place_order

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/payments/webhook-events/"


def started(user, slot, adult):
    order = place_order(user, slot, adult)
    response = client_for(user).post(
        f"/api/v1/payments/orders/{order.pk}/pay/",
        {"gateway": "sandbox", "sandbox": {"outcome": "later"}},
        format="json",
    )
    return order, response.json()["payments"][0]["next_action"]


def test_finance_lists_and_filters_events_with_their_processing(api_client, user, slot, adult):
    _order, action = started(user, slot, adult)
    post_webhook(api_client, action["approve"])
    post_webhook(api_client, action["approve"])
    finance = client_for(staff_member(Role.FINANCE))
    event = WebhookEvent.objects.get()
    listed = finance.get(EVENTS, {"gateway": "sandbox", "event_id": event.event_id})
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert {key: row[key] for key in ("gateway", "event_id", "type", "status", "attempts")} == {
        "gateway": "sandbox",
        "event_id": event.event_id,
        "type": "payment.succeeded",
        "status": "processed",
        "attempts": 1,
    }
    assert row["deliveries"] == 2
    assert None not in (row["received_at"], row["processed_at"])
    assert finance.get(EVENTS, {"status": "failed"}).json()["results"] == []
    assert finance.get(EVENTS, {"event_id": "evt_other"}).json()["results"] == []


def test_replaying_a_processed_event_changes_nothing_but_its_attempts(
    api_client, user, slot, adult
):
    order, action = started(user, slot, adult)
    post_webhook(api_client, action["approve"])
    event = WebhookEvent.objects.get()
    finance = client_for(staff_member(Role.FINANCE))
    replayed = finance.post(f"{EVENTS}{event.pk}/replay/")
    assert (replayed.status_code, replayed.json()["status"], replayed.json()["attempts"]) == (
        200,
        "processed",
        2,
    )
    order.refresh_from_db()
    assert (order.status, order.tickets.count()) == (OrderStatus.PAID, 1)


@pytest.mark.parametrize(
    ("who", "list_status", "replay_status"),
    [
        ("anonymous", 401, 401),
        ("visitor", 403, 403),
        (Role.TICKET_OFFICE, 403, 403),
        (Role.AUDITOR, 403, 403),
        (Role.FINANCE, 200, 200),
        (Role.ADMINISTRATOR, 200, 200),
    ],
)
def test_only_finance_and_administrators_see_and_replay_events(
    api_client, user, slot, adult, who, list_status, replay_status
):
    _order, action = started(user, slot, adult)
    post_webhook(api_client, action["decline"])
    event = WebhookEvent.objects.get()
    client = {"anonymous": api_client, "visitor": client_for(UserFactory())}.get(who) or client_for(
        staff_member(who)
    )
    assert client.get(EVENTS).status_code == list_status
    assert client.post(f"{EVENTS}{event.pk}/replay/").status_code == replay_status
    event.refresh_from_db()
    assert event.attempts == (2 if replay_status == 200 else 1)


def test_front_ends_see_which_gateways_are_on_and_no_secret(api_client, settings):
    settings.PAYMENT_GATEWAYS = ["sandbox", "stripe", "paypal"]  # listed, but not configured
    response = api_client.get("/api/v1/payments/gateways/")
    assert response.status_code == 200
    assert response.json() == [
        {"name": "sandbox", "public": {"test_options": ["approve", "decline", "later"]}}
    ]
    assert "secret" not in response.content.decode()
