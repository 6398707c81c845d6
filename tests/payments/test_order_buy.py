"""Buying in one request: ``POST /orders/`` with ``pay`` creates the order and pays it, with
the same rules as the two requests it replaces, and nothing written when it is refused."""

from decimal import Decimal

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from apps.business.payments.models import Order, OrderStatus, Payment
from apps.business.payments.services import payments as payment_services
from apps.business.tickets.models import Reservation, Ticket, TimeSlot
from apps.integrations.payments import GatewayError
from apps.integrations.payments.sandbox import SandboxGateway
from apps.support.audit.models import AuditEvent
from apps.support.common.models import IdempotencyKey
from apps.support.security.roles import Role
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def buy(client, slot, ticket_type, quantity=1, headers=None, **body):
    lines = [{"slot": slot.pk, "ticket_type": ticket_type.pk, "quantity": quantity}]
    payload = {"lines": lines, "pay": {"gateway": "sandbox"}} | body
    return client.post(ORDERS, payload, format="json", headers=headers or {})


def nothing_written():
    return (
        Order.objects.count(),
        Payment.objects.count(),
        Reservation.objects.count(),
        Ticket.objects.count(),
        AuditEvent.objects.filter(action__startswith="payments.").count(),
    ) == (0, 0, 0, 0, 0)


def test_one_request_pays_the_order_and_issues_its_tickets(user, slot, adult):
    answer = buy(client_for(user), slot, adult, 2)

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    order = Order.objects.get()
    assert (body["id"], body["status"], body["total"], body["guest_token"]) == (
        order.pk,
        "paid",
        "5800.00",
        None,
    )
    assert [(p["method"], p["status"], p["amount"]) for p in body["payments"]] == [
        ("sandbox", "succeeded", "5800.00")
    ]
    assert order.status == OrderStatus.PAID
    assert Ticket.objects.filter(order=order).count() == 2
    assert TimeSlot.objects.get(pk=slot.pk).sold == 2
    assert list(Reservation.objects.values_list("status", "quantity")) == [("confirmed", 2)]
    created, paid = AuditEvent.objects.filter(
        target_type="payments.order", target_id=str(order.pk)
    ).order_by("sequence")
    assert (created.action, created.metadata["paying_with"]) == (
        "payments.order.created",
        "sandbox",
    )
    assert (paid.action, paid.changes) == ("payments.order.paid", {"status": ["pending", "paid"]})


def test_a_declined_buy_leaves_the_order_payable_and_names_it(user, slot, adult):
    client = client_for(user)
    declined = buy(
        client,
        slot,
        adult,
        headers={"Accept-Language": "en"},
        pay={"gateway": "sandbox", "sandbox": {"outcome": "decline"}},
    )

    assert declined.status_code == 402
    order = Order.objects.get()
    assert (declined.json()["code"], declined.json()["details"]) == (
        "payment_declined",
        {"order": order.pk},
    )
    assert declined.json()["message"].endswith(
        f"Order {order.code} was kept: pay it while its seats are held."
    )
    assert order.status == OrderStatus.PENDING
    assert list(Payment.objects.values_list("status", "failure_code")) == [
        ("failed", "card_declined")
    ]
    assert list(Reservation.objects.values_list("status", "quantity")) == [("held", 1)]
    assert (Ticket.objects.count(), TimeSlot.objects.get(pk=slot.pk).sold) == (0, 0)

    paid = client.post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")
    assert paid.status_code == 200
    assert [p["status"] for p in paid.json()["payments"]] == ["failed", "succeeded"]
    assert TimeSlot.objects.get(pk=slot.pk).sold == 1


def test_a_buy_the_gateway_confirms_later_answers_202(user, slot, adult):
    answer = buy(
        client_for(user), slot, adult, pay={"gateway": "sandbox", "sandbox": {"outcome": "later"}}
    )

    assert answer.status_code == 202
    body = answer.json()
    assert (body["status"], [p["status"] for p in body["payments"]]) == ("pending", ["pending"])
    assert body["payments"][0]["next_action"] is not None
    assert (Ticket.objects.count(), TimeSlot.objects.get(pk=slot.pk).sold) == (0, 0)
    assert list(Reservation.objects.values_list("status", "quantity")) == [("held", 1)]


@pytest.mark.parametrize(
    ("pay", "status", "code"),
    [
        ({"gateway": "cash"}, 403, "counter_method_staff_only"),
        ({"gateway": "stripe"}, 400, "unknown_gateway"),
        ({"gateway": "sandbox", "sandbox": {"outcome": "maybe"}}, 400, "invalid_choice"),
        ({"gateway": ""}, 400, "invalid_choice"),
        ({}, 400, "required"),
        ("sandbox", 400, "invalid"),
    ],
)
def test_a_means_of_payment_the_buyer_may_not_use_is_refused_before_anything_is_written(
    user, slot, adult, pay, status, code
):
    answer = buy(client_for(user), slot, adult, pay=pay)

    assert answer.status_code == status, answer.json()
    body = answer.json()
    codes = [error["code"] for error in body.get("errors", [])] or [body["code"]]
    assert code in codes
    assert nothing_written()


def test_a_sold_out_buy_writes_nothing(user, slot, adult):
    answer = buy(client_for(user), slot, adult, quantity=slot.capacity + 1)

    assert (answer.status_code, answer.json()["code"]) == (409, "sold_out")
    assert "details" not in answer.json()
    assert nothing_written()


def test_the_ticket_office_sells_and_takes_cash_in_one_request(slot, adult):
    cashier = staff_member(Role.TICKET_OFFICE)
    answer = buy(
        client_for(cashier),
        slot,
        adult,
        3,
        channel="counter",
        email="familia@example.com",
        pay={"gateway": "cash"},
    )

    assert answer.status_code == 201, answer.json()
    order = Order.objects.get()
    assert (order.channel, order.user_id, order.email, order.status) == (
        "counter",
        None,
        "familia@example.com",
        OrderStatus.PAID,
    )
    assert list(Payment.objects.values_list("method", "status", "amount", "created_by")) == [
        ("cash", "succeeded", Decimal("8700.00"), cashier.pk)
    ]
    assert Ticket.objects.filter(order=order).count() == 3


def test_a_guest_gives_in_one_request_and_gets_its_token(api_client, db):
    answer = api_client.post(
        ORDERS,
        {
            "lines": [{"kind": "donation", "amount": "5000.00"}],
            "email": "amiga@example.com",
            "pay": {"gateway": "sandbox"},
        },
        format="json",
    )

    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "paid"
    token = body["guest_token"]
    assert token is not None
    assert len(token) >= 20
    again = api_client.get(f"{ORDERS}{body['id']}/", headers={"X-Order-Token": token})
    assert (again.status_code, again.json()["status"]) == (200, "paid")


def test_a_guest_still_cannot_buy_tickets_in_one_request(api_client, slot, adult):
    answer = buy(api_client, slot, adult, email="amiga@example.com")

    assert (answer.status_code, answer.json()["code"]) == (401, "sign_in_required")
    assert nothing_written()


def test_a_retry_with_the_same_key_replays_the_buy(user, slot, adult):
    client = client_for(user)
    key = {"Idempotency-Key": "buy-1"}
    first = buy(client, slot, adult, headers=key)
    again = buy(client, slot, adult, headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (Order.objects.count(), Payment.objects.count(), Ticket.objects.count()) == (1, 1, 1)


def test_an_unavailable_gateway_after_the_order_exists_is_kept_for_the_key(
    user, slot, adult, monkeypatch
):
    """ "Try again" answers release their key, except one that names the order it created:
    retrying the buy for real would place a second order."""

    def unavailable(self, request):
        raise GatewayError("connection refused")

    monkeypatch.setattr(SandboxGateway, "start_payment", unavailable)
    client = client_for(user)
    key = {"Idempotency-Key": "buy-2"}
    first = buy(client, slot, adult, headers=key)

    order = Order.objects.get()
    assert first.status_code == 409
    assert (first.json()["code"], first.json()["details"]) == (
        "gateway_unavailable",
        {"order": order.pk},
    )
    assert list(Payment.objects.values_list("status", "failure_code")) == [
        ("failed", "gateway_unavailable")
    ]
    again = buy(client, slot, adult, headers=key)
    assert (again.status_code, again.json()) == (409, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.get().status_code == 409

    monkeypatch.undo()
    paid = client.post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")
    assert (paid.status_code, paid.json()["status"]) == (200, "paid")


def test_a_guest_whose_gift_is_declined_gets_the_token_to_pay_it_again(api_client, db):
    declined = api_client.post(
        ORDERS,
        {
            "lines": [{"kind": "donation", "amount": "5000.00"}],
            "email": "amiga@example.com",
            "pay": {"gateway": "sandbox", "sandbox": {"outcome": "decline"}},
        },
        format="json",
    )

    assert declined.status_code == 402
    order = Order.objects.get()
    details = declined.json()["details"]
    assert (details["order"], len(details["guest_token"]) >= 20) == (order.pk, True)
    paid = api_client.post(
        f"{ORDERS}{order.pk}/pay/",
        {"gateway": "sandbox"},
        format="json",
        headers={"X-Order-Token": details["guest_token"]},
    )
    assert (paid.status_code, paid.json()["status"]) == (200, "paid")


def test_a_lock_not_had_in_time_after_the_order_exists_names_it_and_keeps_the_key(
    user, slot, adult, monkeypatch
):
    """A lock wait that ran out while paying (MySQL's error 1205, PostgreSQL's 55P03) is a
    "try again" answer: it names the order it created, so the retry does not place another."""

    def lock_wait_timeout(**kwargs):
        raise OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction")

    monkeypatch.setattr(payment_services, "_payment_start", lock_wait_timeout)
    client = client_for(user)
    key = {"Idempotency-Key": "buy-3", "Accept-Language": "en"}
    first = buy(client, slot, adult, headers=key)

    order = Order.objects.get()
    assert first.status_code == 409
    assert (first.json()["code"], first.json()["details"], first.headers["Retry-After"]) == (
        "busy",
        {"order": order.pk},
        "1",
    )
    assert first.json()["message"] == (
        "Many people are buying right now; please try again in a moment. "
        f"Order {order.code} was kept: pay it while its seats are held."
    )
    again = buy(client, slot, adult, headers=key)
    assert (again.status_code, again.json()) == (409, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (Order.objects.count(), Payment.objects.count()) == (1, 1)
    assert list(Reservation.objects.values_list("status", "quantity")) == [("held", 1)]


def test_a_buy_records_its_payment_attempt_before_it_locks_the_seats(user, slot, adult):
    """Only the audit entry is written after the slot's lock is taken (shorter lock)."""
    with CaptureQueriesContext(connection) as queries:
        assert buy(client_for(user), slot, adult).status_code == 201
    statements = [query["sql"].replace("`", '"') for query in queries.captured_queries]

    def first(prefix, after=-1):
        return next(i for i, sql in enumerate(statements) if i > after and sql.startswith(prefix))

    order_insert = first('INSERT INTO "payments_order"')
    slot_lock = next(
        i for i, sql in enumerate(statements) if i > order_insert and "tickets_timeslot" in sql
    )
    assert order_insert < first('INSERT INTO "payments_payment"', order_insert) < slot_lock


def test_the_answers_of_buy_and_pay_are_the_order_as_read_afterwards(user, slot, adult):
    """The answers are written from what the payment's settlement read and wrote (docs/adr/0053):
    they must be the order as a fresh read shows it, to the last field."""
    from api.v1.payments.serializers import OrderCreatedSerializer, OrderSerializer
    from apps.business.payments.selectors import order_list

    client = client_for(user)
    bought = buy(client, slot, adult, 2, headers={"Accept-Language": "en"})
    assert bought.status_code == 201, bought.json()
    fresh = OrderCreatedSerializer(order_list().get(pk=bought.json()["id"])).data
    assert bought.json() == {**fresh, "guest_token": None}

    lines = [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]
    created = client.post(ORDERS, {"lines": lines}, format="json")
    declined = client.post(
        f"{ORDERS}{created.json()['id']}/pay/",
        {"gateway": "sandbox", "sandbox": {"outcome": "decline"}},
        format="json",
    )
    assert declined.status_code == 402
    paid = client.post(
        f"{ORDERS}{created.json()['id']}/pay/", {"gateway": "sandbox"}, format="json"
    )
    assert paid.status_code == 200, paid.json()
    assert [p["status"] for p in paid.json()["payments"]] == ["failed", "succeeded"]
    assert paid.json() == OrderSerializer(order_list().get(pk=created.json()["id"])).data
