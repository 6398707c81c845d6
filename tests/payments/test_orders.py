"""Orders: server-computed totals, holds that run out by time alone, who sees what,
cancellation and the counter."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.business.payments.models import Order, OrderStatus, Payment, Refund
from apps.business.tickets.models import Reservation, Ticket, TimeSlot
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for, staff_member
from tests.sales import paid_order, place_order, run_out_hold

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def line(slot, ticket_type, quantity=1, **extra):
    return {"slot": slot.pk, "ticket_type": ticket_type.pk, "quantity": quantity, **extra}


@pytest.fixture
def slot():
    return TimeSlotFactory(capacity=10)


@pytest.fixture
def adult():
    return TicketTypeFactory(code="adult", price=Decimal("2900.00"))


def test_the_total_comes_from_the_server_and_a_client_total_is_refused(user, slot, adult):
    client = client_for(user)
    refused = client.post(ORDERS, {"lines": [line(slot, adult, 2)], "total": "1.00"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"field": "total", "code": "unknown_field", "message": "Campo desconocido."}
    ]
    sneaky_line = client.post(ORDERS, {"lines": [line(slot, adult, 2, price="1")]}, format="json")
    assert sneaky_line.status_code == 400
    assert sneaky_line.json()["errors"][0]["field"] == "lines.0.price"
    assert Order.objects.count() == 0

    created = client.post(ORDERS, {"lines": [line(slot, adult, 2)]}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert (body["total"], body["currency"], body["status"], body["channel"]) == (
        "5800.00",
        "CRC",
        "pending",
        "online",
    )
    assert AuditEvent.objects.filter(action="payments.order.created").count() == 1


def test_an_order_holds_its_seats_for_fifteen_minutes(user, slot, adult, monkeypatch):
    moment = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: moment)
    order = place_order(user, slot, adult, 2)
    assert order.expires_at == moment + timedelta(minutes=15)
    assert list(Reservation.objects.values_list("expires_at", "quantity", "status")) == [
        (moment + timedelta(minutes=15), 2, "held")
    ]


@pytest.mark.parametrize(
    ("lines", "status", "code", "field"),
    [
        ([], 400, "empty", "lines"),
        (
            [{"slot": 999999, "ticket_type": "ADULT", "quantity": 1}],
            400,
            "slot_not_found",
            "lines.0.slot",
        ),
        ([{"ticket_type": "ADULT", "quantity": 1}], 400, "required", "lines.0.slot"),
        (
            [{"slot": "SLOT", "ticket_type": 999999, "quantity": 1}],
            400,
            "ticket_type_not_found",
            "lines.0.ticket_type",
        ),
        (
            [{"slot": "SLOT", "ticket_type": "ADULT", "quantity": 0}],
            400,
            "min_value",
            "lines.0.quantity",
        ),
        (
            [{"slot": "SLOT", "ticket_type": "ADULT", "quantity": 61}],
            400,
            "quantity_above_maximum",
            "lines.0.quantity",
        ),
        (
            [{"slot": "SLOT", "ticket_type": "GROUP", "quantity": 10}],
            400,
            "quantity_below_minimum",
            "lines.0.quantity",
        ),
        ([{"slot": "SLOT", "ticket_type": "ADULT", "quantity": 11}], 409, "sold_out", None),
        ([{"kind": "gift_card", "quantity": 1}], 400, "invalid_choice", "lines.0.kind"),
    ],
)
def test_bad_lines_are_refused_and_nothing_is_written(
    user, slot, adult, lines, status, code, field
):
    group = TicketTypeFactory(code="group-11", price=Decimal("2400.00"), min_quantity=11)
    ids = {"SLOT": slot.pk, "ADULT": adult.pk, "GROUP": group.pk}
    lines = [{key: ids.get(value, value) for key, value in item.items()} for item in lines]
    response = client_for(user).post(ORDERS, {"lines": lines}, format="json")
    assert response.status_code == status, response.json()
    body = response.json()
    # Malformed input is a validation_error naming the field; a business rule, its own code.
    schema_codes = {"empty", "required", "min_value", "invalid_choice"}
    assert body["code"] == ("validation_error" if code in schema_codes else code)
    if field is not None:
        assert [(error["field"], error["code"]) for error in body["errors"]] == [(field, code)]
    assert (Order.objects.count(), Reservation.objects.count()) == (0, 0)


def test_every_kind_of_item_sold_has_its_order_line_input():
    """A selling module registers its item handler (payments' services) and the input of its
    order lines (payments' HTTP layer); one without the other would sell nothing, or 500."""
    from api.v1.payments.lines import line_input_kinds
    from apps.business.payments.handlers import item_kinds

    assert line_input_kinds() == item_kinds() == ["donation", "enrollment", "ticket"]


def test_closed_and_past_slots_cannot_be_bought(user, adult):
    closed = TimeSlotFactory(is_closed=True)
    start = timezone.now() - timedelta(hours=3)
    past = TimeSlotFactory(starts_at=start, ends_at=start + timedelta(hours=1))
    client = client_for(user)
    for slot, code in ((closed, "slot_closed"), (past, "slot_past")):
        response = client.post(ORDERS, {"lines": [line(slot, adult)]}, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == code
    assert Order.objects.count() == 0


def test_anonymous_cannot_order(api_client, slot, adult):
    response = api_client.post(ORDERS, {"lines": [line(slot, adult)]}, format="json")
    assert response.status_code == 401
    assert Order.objects.count() == 0


def test_an_unpaid_hold_stops_counting_by_time_alone(user, slot, adult):
    order = place_order(user, slot, adult, quantity=10)
    other = client_for(UserFactory())
    sold_out = other.post(ORDERS, {"lines": [line(slot, adult, 1)]}, format="json")
    assert (sold_out.status_code, sold_out.json()["code"]) == (409, "sold_out")

    run_out_hold(order)  # no job runs: only the clock moved
    assert client_for(user).get(f"{ORDERS}{order.pk}/").json()["status"] == "expired"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING  # not written yet
    mine = client_for(user)
    assert [o["id"] for o in mine.get(ORDERS, {"status": "expired"}).json()["results"]] == [
        order.pk
    ]
    assert mine.get(ORDERS, {"status": "pending"}).json()["results"] == []
    availability = other.get("/api/v1/tickets/slots/").json()["results"][0]
    assert (availability["held"], availability["remaining"]) == (0, 10)
    bought = other.post(ORDERS, {"lines": [line(slot, adult, 10)]}, format="json")
    assert bought.status_code == 201


def test_the_expiry_job_records_expired_orders_and_releases_their_holds(user, slot, adult):
    stale, fresh = place_order(user, slot, adult, 2), place_order(user, slot, adult, 1)
    run_out_hold(stale)
    output = io.StringIO()
    call_command("orders_expire", stdout=output)
    assert output.getvalue() == (
        "1 orders expired, 0 skipped (in use, taken next run), 0 interrupted payments asked "
        "again, 0 idempotency keys pruned.\n"
    )
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert (stale.status, fresh.status) == (OrderStatus.EXPIRED, OrderStatus.PENDING)
    assert list(Reservation.objects.filter(order=stale).values_list("status", flat=True)) == [
        "released"
    ]
    assert (
        AuditEvent.objects.filter(action="payments.order.expired", target_id=str(stale.pk)).count()
        == 1
    )


def test_visitors_see_their_own_orders_only_and_staff_see_all(slot, adult):
    ana, ben = UserFactory(), UserFactory()
    ana_order, ben_order = place_order(ana, slot, adult), place_order(ben, slot, adult)
    ana_client = client_for(ana)
    assert [o["id"] for o in ana_client.get(ORDERS).json()["results"]] == [ana_order.pk]
    assert ana_client.get(f"{ORDERS}{ben_order.pk}/").status_code == 404
    for action in ("pay", "cancel"):
        refused = ana_client.post(
            f"{ORDERS}{ben_order.pk}/{action}/",
            {"gateway": "sandbox"} if action == "pay" else {},
            format="json",
        )
        assert refused.status_code == 404
    ben_order.refresh_from_db()
    assert ben_order.status == OrderStatus.PENDING
    assert Payment.objects.count() == 0
    for role in (Role.TICKET_OFFICE, Role.FINANCE):
        staff = client_for(staff_member(role))
        assert sorted(o["id"] for o in staff.get(ORDERS).json()["results"]) == sorted(
            [ana_order.pk, ben_order.pk]
        )
    assert client_for(staff_member(Role.GATE_STAFF)).get(ORDERS).json()["results"] == []


def test_cancelling_an_unpaid_order_gives_the_seats_back(user, slot, adult):
    order = place_order(user, slot, adult, 4)
    response = client_for(user).post(
        f"{ORDERS}{order.pk}/cancel/", {"reason": "Plans changed"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    slot_view = client_for(user).get("/api/v1/tickets/slots/").json()["results"][0]
    assert (slot_view["held"], slot_view["remaining"]) == (0, 10)
    again = client_for(user).post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "order_not_cancellable")


def future_slot(days=3):
    start = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(
        days=days
    )
    return TimeSlotFactory(
        starts_at=start, ends_at=start + timedelta(minutes=30), date=start.date(), capacity=10
    )


def test_a_paid_order_is_refunded_when_cancelled_in_time(user, adult):
    slot = future_slot(days=3)
    order = paid_order(user, slot, adult, 3)
    assert TimeSlot.objects.get(pk=slot.pk).sold == 3
    response = client_for(user).post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "canceled"
    assert [(p["status"], p["amount"]) for p in body["payments"]] == [("refunded", "8700.00")]
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.gateway_reference.startswith("sbx_ref_")) == (
        Decimal("8700.00"),
        "succeeded",
        True,
    )
    assert TimeSlot.objects.get(pk=slot.pk).sold == 0
    assert set(Ticket.objects.filter(order=order).values_list("status", flat=True)) == {"void"}


def test_a_paid_order_cannot_be_cancelled_by_its_visitor_after_the_deadline(user, adult):
    slot = future_slot(days=0) if timezone.localtime().hour < 9 else TimeSlotFactory()
    order = paid_order(user, slot, adult, 1)
    refused = client_for(user).post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "cancellation_deadline_passed")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Refund.objects.count() == 0
    assert TimeSlot.objects.get(pk=slot.pk).sold == 1
    # The ticket office may still cancel it (the visitor is at the counter).
    office = client_for(staff_member(Role.TICKET_OFFICE))
    assert office.post(f"{ORDERS}{order.pk}/cancel/", {}, format="json").status_code == 200
    assert TimeSlot.objects.get(pk=slot.pk).sold == 0


def test_used_tickets_are_never_refunded(user, adult):
    from apps.business.tickets.services import ticket_check_in
    from apps.business.tickets.signing import ticket_code

    slot = TimeSlotFactory()
    order = paid_order(user, slot, adult, 1)
    ticket_check_in(
        code=ticket_code(order.tickets.get().secret),
        gate="Norte",
        actor=staff_member(Role.GATE_STAFF),
    )
    office = client_for(staff_member(Role.TICKET_OFFICE))
    refused = office.post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "tickets_already_used")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_the_ticket_office_sells_at_the_counter_for_cash(slot, adult):
    clerk = staff_member(Role.TICKET_OFFICE)
    office = client_for(clerk)
    created = office.post(
        ORDERS,
        {"lines": [line(slot, adult, 2)], "channel": "counter", "email": "familia@example.org"},
        format="json",
    )
    assert created.status_code == 201
    order_id = created.json()["id"]
    paid = office.post(f"{ORDERS}{order_id}/pay/", {"gateway": "cash"}, format="json")
    assert paid.status_code == 200
    order = Order.objects.get(pk=order_id)
    assert (order.user, order.created_by, order.channel, order.status, order.email) == (
        None,
        clerk,
        "counter",
        "paid",
        "familia@example.org",
    )
    payment = order.payments.get()
    assert (payment.method, payment.status, payment.created_by) == ("cash", "succeeded", clerk)
    assert order.tickets.count() == 2


def test_visitors_cannot_sell_at_the_counter_nor_record_cash(user, slot, adult):
    client = client_for(user)
    counter = client.post(
        ORDERS, {"lines": [line(slot, adult)], "channel": "counter"}, format="json"
    )
    assert (counter.status_code, counter.json()["code"]) == (403, "channel_forbidden")
    order = place_order(user, slot, adult)
    cash = client.post(f"{ORDERS}{order.pk}/pay/", {"gateway": "card_present"}, format="json")
    assert (cash.status_code, cash.json()["code"]) == (403, "counter_method_staff_only")
    order.refresh_from_db()
    assert (order.status, Payment.objects.count(), Order.objects.count()) == ("pending", 0, 1)


def test_the_sold_out_message_says_how_many_places_are_left(user, slot, adult):
    place_order(UserFactory(), slot, adult, 9)  # 1 of 10 left
    client = client_for(user)
    body = {"lines": [line(slot, adult, 2)]}
    english = client.post(ORDERS, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    spanish = client.post(ORDERS, body, format="json", HTTP_ACCEPT_LANGUAGE="es")
    assert english.json()["message"].startswith("Only 1 place is left at ")
    assert spanish.json()["message"].startswith("Solo queda 1 cupo para el ")
