"""Never oversell: many buyers in several processes race for one slot on PostgreSQL.

Each scenario runs twice through the same harness (tests/race.py): with the real
service, and as a control with the slot lock replaced by a plain read. The control must show
the bug (seats promised beyond capacity); otherwise the harness would prove nothing.

``checks_meet`` makes the interleaving that oversells certain, not lucky, on any machine:
after reading what is free, a buyer waits until another buyer has read it too. With the slot
lock nobody else can read until the first one commits: it goes on as soon as another buyer is
seen waiting for the lock. Without the lock, two buyers always read the last free seat at once.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Order, OrderStatus, Payment, PaymentStatus
from apps.business.tickets import handlers
from apps.business.tickets.models import (
    Reservation,
    ReservationStatus,
    Ticket,
    TicketStatus,
    TimeSlot,
)
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.race import meet_after, post_retrying, race

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CAPACITY = 60
BUYERS = 80
ORDERS = "/api/v1/payments/orders/"


@pytest.fixture
def checks_meet(monkeypatch):
    """After reading the seats held, wait for a rival reader (see the module's docstring),
    once armed: the orders a test sets up one by one beforehand have no rival."""
    return meet_after(monkeypatch, handlers, "held_seats", table="tickets_timeslot")


def without_the_lock(monkeypatch):
    monkeypatch.setattr(
        handlers,
        "_lock_slots",
        lambda slot_ids: {slot.pk: slot for slot in TimeSlot.objects.filter(pk__in=slot_ids)},
    )


def answer(response) -> str:
    """The order's status on success, the error code otherwise."""
    body = response.json()
    return body["status"] if response.status_code < 300 else body["code"]


def token(user) -> str:
    return str(AccessToken.for_user(user))


def live_seats(slot: TimeSlot) -> int:
    """Seats sold plus seats held by unexpired holds: what the slot has promised."""
    slot.refresh_from_db()
    held = Reservation.objects.filter(
        slot=slot, status=ReservationStatus.HELD, expires_at__gt=timezone.now()
    ).aggregate(seats=Sum("quantity"))["seats"]
    return slot.sold + (held or 0)


def buy_one(slot, ticket_type, user):
    body = {"lines": [{"slot": slot.pk, "ticket_type": ticket_type.pk, "quantity": 1}]}
    bearer = token(user)

    def action(client):
        response = post_retrying(client, ORDERS, body, bearer)
        return ("create", response.status_code, response.json().get("code", "created"))

    return action


def race_buyers(slot, ticket_type, arm_checks):
    buyers = [UserFactory() for _ in range(BUYERS)]
    arm_checks()
    return race([buy_one(slot, ticket_type, buyer) for buyer in buyers], processes=2)


def test_80_buyers_in_2_processes_get_exactly_60_seats(checks_meet):
    slot, ticket_type = TimeSlotFactory(capacity=CAPACITY), TicketTypeFactory()
    results = race_buyers(slot, ticket_type, checks_meet)
    statuses = sorted(status for _kind, status, _code in results)
    assert statuses == [201] * CAPACITY + [409] * (BUYERS - CAPACITY), results
    assert {code for _kind, status, code in results if status == 409} == {"sold_out"}
    assert live_seats(slot) == CAPACITY
    assert Order.objects.count() == CAPACITY


def test_control_without_the_lock_the_same_race_oversells(checks_meet, monkeypatch):
    without_the_lock(monkeypatch)
    slot, ticket_type = TimeSlotFactory(capacity=CAPACITY), TicketTypeFactory()
    results = race_buyers(slot, ticket_type, checks_meet)
    sold = sum(1 for _kind, status, _code in results if status == 201)
    assert sold > CAPACITY  # the bug the lock prevents: more seats promised than exist
    assert live_seats(slot) == sold


def pending_order(slot, ticket_type, user, *, expired: bool) -> Order:
    order = payments.order_create(
        actor=user,
        lines=[
            LineRequest(
                kind="ticket", quantity=1, fields={"slot": slot.pk, "ticket_type": ticket_type.pk}
            )
        ],
    )
    if expired:
        Order.objects.filter(pk=order.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        Reservation.objects.filter(order=order).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    return order


def mixed_race(slot, ticket_type, arm_checks):
    """15 pay live holds, 15 pay holds that ran out, 15 cancel, 15 holds are left alone,
    20 newcomers buy (create, then pay) — and the expiry job runs at the same moment."""
    owners = [UserFactory() for _ in range(60)]
    orders = [
        pending_order(slot, ticket_type, owner, expired=index >= 45)
        for index, owner in enumerate(owners)
    ]
    live_pay, cancel, _untouched, expired_pay = (
        orders[:15],
        orders[15:30],
        orders[30:45],
        orders[45:],
    )
    newcomers = [UserFactory() for _ in range(20)]
    actions = []

    def pay(order):
        bearer = token(order.user)

        def action(client):
            response = post_retrying(
                client, f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, bearer
            )
            kind = "pay-expired" if order in expired_pay else "pay-live"
            return (
                kind,
                response.status_code,
                answer(response),
            )

        return action

    def cancel_order(order):
        bearer = token(order.user)

        def action(client):
            response = post_retrying(client, f"{ORDERS}{order.pk}/cancel/", {}, bearer)
            return (
                "cancel",
                response.status_code,
                answer(response),
            )

        return action

    def buy_and_pay(user):
        bearer = token(user)
        body = {"lines": [{"slot": slot.pk, "ticket_type": ticket_type.pk, "quantity": 1}]}

        def action(client):
            created = post_retrying(client, ORDERS, body, bearer)
            if created.status_code != 201:
                return ("new-create", created.status_code, created.json()["code"])
            paid = post_retrying(
                client, f"{ORDERS}{created.json()['id']}/pay/", {"gateway": "sandbox"}, bearer
            )
            return ("new-pay", paid.status_code, answer(paid))

        return action

    def expire_job(_client):
        run = payments.orders_expire()
        return ("expire", 200, f"{run.expired} expired, {run.skipped} skipped")

    actions += [pay(order) for order in live_pay + expired_pay]
    actions += [cancel_order(order) for order in cancel]
    actions += [buy_and_pay(user) for user in newcomers]
    actions.append(expire_job)
    arm_checks()
    return race(actions, processes=2)


def test_paying_cancelling_and_expiring_at_once_never_oversell(checks_meet):
    slot, ticket_type = (
        TimeSlotFactory(capacity=CAPACITY),
        TicketTypeFactory(price=Decimal("2900.00")),
    )
    results = mixed_race(slot, ticket_type, checks_meet)
    by_kind: dict[str, list[tuple[int, str]]] = {}
    for kind, status, code in results:
        by_kind.setdefault(kind, []).append((status, code))
    assert {status for _kind, status, _code in results} <= {200, 201, 409}, results
    # A live hold is honoured; cancelling an unpaid order always works.
    assert by_kind["pay-live"] == [(200, "paid")] * 15
    assert by_kind["cancel"] == [(200, "canceled")] * 15
    # Newcomers who got a hold could pay for it.
    assert all(answer == (200, "paid") for answer in by_kind.get("new-pay", []))
    assert {code for _status, code in by_kind.get("new-create", [])} <= {"sold_out"}
    # Whoever paid an expired hold either got a freed seat or the money back.
    assert set(by_kind["pay-expired"]) <= {(200, "paid"), (409, "sold_out")}

    slot.refresh_from_db()
    paid_orders = Order.objects.filter(status=OrderStatus.PAID)
    valid_tickets = Ticket.objects.filter(status=TicketStatus.VALID)
    assert slot.sold == paid_orders.count() == valid_tickets.count()
    assert live_seats(slot) <= CAPACITY
    # Freed seats (15 cancelled, 15 run out) were all sold again: nothing lost either.
    assert live_seats(slot) == CAPACITY
    # Money matches: one succeeded payment per paid order; refused ones were refunded.
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == paid_orders.count()
    refused = sum(1 for status, _code in by_kind["pay-expired"] if status == 409)
    assert Payment.objects.filter(status=PaymentStatus.REFUNDED).count() == refused


def test_control_without_the_lock_paying_and_buying_at_once_oversells(checks_meet, monkeypatch):
    without_the_lock(monkeypatch)
    slot, ticket_type = TimeSlotFactory(capacity=CAPACITY), TicketTypeFactory()
    results = mixed_race(slot, ticket_type, checks_meet)
    assert {status for _kind, status, _code in results} <= {200, 201, 409}, results
    # Without the lock, buyers and payers of run-out holds took the same freed seats: the
    # slot has promised more seats (sold + live holds) than it has.
    assert live_seats(slot) > CAPACITY
