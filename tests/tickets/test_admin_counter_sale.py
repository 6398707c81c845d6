"""The counter sale of the back office (``/admin/payments/order/sell/``): one submit places
and pays the order through ``payments.order_buy``, as ``POST /api/v1/payments/orders/`` with
``channel: counter`` does; a refusal shows on the form and leaves nothing behind."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.payments.models import Order, OrderStatus, Payment
from apps.business.tickets.models import Ticket, TimeSlot
from apps.business.tickets.signing import ticket_code
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, UserFactory
from tests.helpers import client_for, staff_member
from tests.payments.test_order_buy import nothing_written
from tests.tickets.pages import adult_type, signed_in, slot_at

pytestmark = pytest.mark.django_db

SELL = "/admin/payments/order/sell/"


@pytest.fixture
def slot():
    """Today's slot on sale now, from the hour, two hours long, four seats."""
    return slot_at(capacity=4)


adult = pytest.fixture(adult_type)


@pytest.fixture
def child():
    return TicketTypeFactory(code="child", name_en="Child", price=Decimal("1500.00"))


@pytest.fixture
def cashier(client):
    return signed_in(client, Role.TICKET_OFFICE)


def sale(slot, quantities, method="cash", email="familia@example.com"):
    return {
        "slot": slot.pk,
        "email": email,
        "method": method,
        **{f"quantity_{ticket_type.pk}": quantity for ticket_type, quantity in quantities},
    }


def nothing_sold() -> bool:
    """No order, payment, hold, ticket or audit entry of payments; no seat sold."""
    return nothing_written() and TimeSlot.objects.get().sold == 0


def test_the_page_offers_the_days_slots_with_seats_in_the_parks_time(client, cashier, slot, adult):
    starts = timezone.localtime(slot.starts_at)
    full = TimeSlot.objects.create(
        date=slot.date,
        starts_at=slot.starts_at + datetime.timedelta(minutes=30),
        ends_at=slot.ends_at + datetime.timedelta(minutes=30),
        capacity=0,
    )
    response = client.get(SELL)

    assert response.status_code == 200
    choices = list(response.context["form"].fields["slot"].widget.choices)
    ends = timezone.localtime(slot.ends_at)
    assert choices == [
        ("", "---------"),
        (slot.pk, f"{starts:%Y-%m-%d %H:%M}-{ends:%H:%M} (4 seats left)"),
    ]
    assert full.pk not in [value for value, _label in choices]
    assert response.context["form"][f"quantity_{adult.pk}"].label == "Adult (2900.00 CRC)"


def test_one_submit_sells_two_tickets_paid_in_cash(client, cashier, slot, adult, child):
    response = client.post(SELL, sale(slot, [(adult, 1), (child, 1)]))

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{SELL}?date={slot.date.isoformat()}&sold={order.pk}"
    assert (order.channel, order.user_id, order.email, order.status, order.total) == (
        "counter",
        None,
        "familia@example.com",
        OrderStatus.PAID,
        Decimal("4400.00"),
    )
    assert list(Payment.objects.values_list("method", "status", "amount", "created_by")) == [
        ("cash", "succeeded", Decimal("4400.00"), cashier.pk)
    ]
    tickets = list(Ticket.objects.filter(order=order).order_by("id"))
    assert [ticket.ticket_type.code for ticket in tickets] == ["adult", "child"]
    assert TimeSlot.objects.get().sold == 2

    shown = client.get(response["Location"])
    html = shown.content.decode()
    assert shown.context["sold"]["order"] == order
    assert [ticket["code"] for ticket in shown.context["sold"]["tickets"]] == [
        ticket_code(ticket.secret) for ticket in tickets
    ]
    for ticket in tickets:
        assert ticket_code(ticket.secret) in html
        assert f"/api/v1/tickets/tickets/{ticket.pk}/pdf/" in html
    assert order.code in html
    assert "4400.00 CRC" in html


def test_the_sale_is_audited_as_the_apis_counter_sale(client, cashier, slot, adult):
    client.post(SELL, sale(slot, [(adult, 2)], method="card_present"))
    api = client_for(cashier).post(
        "/api/v1/payments/orders/",
        {
            "lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 2}],
            "channel": "counter",
            "email": "familia@example.com",
            "pay": {"gateway": "card_present"},
        },
        format="json",
    )
    assert api.status_code == 201, api.json()

    back_office, by_api = Order.objects.order_by("id")

    def trail(order):
        return [
            (event.action, event.actor_id, event.metadata.get("channel"))
            for event in AuditEvent.objects.filter(
                target_type="payments.order", target_id=str(order.pk)
            ).order_by("sequence")
        ]

    assert trail(back_office) == trail(by_api)
    assert trail(back_office)[0] == ("payments.order.created", cashier.pk, "counter")
    assert (back_office.total, by_api.total) == (Decimal("5800.00"), Decimal("5800.00"))


def test_a_sale_above_the_seats_left_is_refused_and_leaves_nothing(client, cashier, slot, adult):
    response = client.post(SELL, sale(slot, [(adult, 5)]))

    assert response.status_code == 200
    [refusal] = response.context["form"].non_field_errors()
    assert refusal.startswith("Only 4 places are left at ")
    assert refusal in response.content.decode()
    assert nothing_sold()


def test_a_closed_slot_is_refused_by_the_service_and_leaves_nothing(client, cashier, slot, adult):
    TimeSlot.objects.filter(pk=slot.pk).update(is_closed=True)

    response = client.post(SELL, sale(slot, [(adult, 2)]))

    assert response.status_code == 200
    [refusal] = response.context["form"].non_field_errors()
    assert refusal.startswith("The park does not admit visitors at ")
    assert list(response.context["form"].errors) == ["__all__"]
    assert nothing_sold()


def test_a_sale_without_tickets_is_refused_and_leaves_nothing(client, cashier, slot, adult):
    response = client.post(SELL, sale(slot, [(adult, 0)]))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Choose how many tickets of at least one type."
    ]
    assert nothing_sold()


def test_an_administrator_sells_too(client, administrator, slot, adult):
    client.force_login(administrator)
    response = client.post(SELL, sale(slot, [(adult, 1)]))
    assert response.status_code == 302
    assert Order.objects.get().created_by == administrator


@pytest.mark.parametrize("role", [Role.GATE_STAFF, Role.CURATOR, Role.FINANCE])
def test_other_staff_may_not_sell(client, slot, adult, role):
    client.force_login(staff_member(role))

    assert client.get(SELL).status_code == 403
    assert client.post(SELL, sale(slot, [(adult, 2)])).status_code == 403
    assert nothing_sold()


def test_a_visitor_is_sent_to_sign_in_and_nothing_is_sold(client, slot, adult):
    client.force_login(UserFactory())

    response = client.post(SELL, sale(slot, [(adult, 2)]))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert nothing_sold()
