"""Cancel and refund from an order's page in the back office: a confirmation page each, then
the same services as the API (``order_cancel`` for whoever sees every order, ``refund_request``
for finance), the gateway called after the commit; the outcome as a message. Stripe is faked
at its HTTP transport."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from apps.business.payments import services as payments
from apps.business.payments.models import Order, OrderStatus, Refund
from apps.business.tickets.models import Ticket
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.helpers import staff_member
from tests.integrations.stripe_fake import fake_stripe  # noqa: F401
from tests.review10.helpers import two_line_order_paid_by_stripe

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(user, fake_stripe, api_client):  # noqa: F811
    return two_line_order_paid_by_stripe(user, fake_stripe, api_client)


def page(order, what):
    return f"/admin/payments/order/{order.pk}/{what}/"


def state(order):
    """What a refused request must leave as it was."""
    order.refresh_from_db()
    return (
        order.status,
        Refund.objects.count(),
        sorted(Ticket.objects.filter(order=order).values_list("status", flat=True)),
        AuditEvent.objects.count(),
    )


def said(response):
    return [(message.level_tag, str(message)) for message in get_messages(response.wsgi_request)]


def test_the_ticket_office_cancels_a_paid_order_and_its_payment_is_refunded(
    client,
    order,
    fake_stripe,  # noqa: F811
):
    client.force_login(staff_member(Role.TICKET_OFFICE, preferred_language="en"))
    before = state(order)

    confirmation = client.get(page(order, "cancel"), HTTP_ACCEPT_LANGUAGE="en")
    assert confirmation.status_code == 200
    assert "Yes, cancel the order" in confirmation.content.decode()
    assert state(order) == before  # asking is not doing

    response = client.post(
        page(order, "cancel"), {"reason": "Asked at the counter"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 302
    assert response["Location"] == f"/admin/payments/order/{order.pk}/change/"
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELED, "Asked at the counter")
    refund = Refund.objects.get()
    assert (refund.amount, refund.scope, refund.status, refund.reason) == (
        Decimal("5800.00"),
        "cancellation",
        "succeeded",
        "Asked at the counter",
    )
    assert refund.gateway_reference in fake_stripe.refunds
    assert list(Ticket.objects.filter(order=order).values_list("status", flat=True)) == [
        "void",
        "void",
    ]
    assert said(response) == [
        ("success", f"Order {order.code} cancelled."),
        ("success", "Refund of 5800.00 CRC succeeded."),
    ]


def test_finance_refunds_the_whole_order(client, order, fake_stripe):  # noqa: F811
    finance = staff_member(Role.FINANCE, preferred_language="en")
    client.force_login(finance)
    confirmation = client.get(page(order, "refund"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Yes, refund the order" in confirmation.content.decode()
    assert Refund.objects.count() == 0

    response = client.post(page(order, "refund"), {"reason": ""}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount, refund.scope, refund.status, refund.created_by) == (
        Decimal("5800.00"),
        "order",
        "succeeded",
        finance,
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert said(response) == [("success", "Refund of 5800.00 CRC succeeded.")]


def test_a_refund_the_gateway_refuses_is_told_as_failed(client, order, fake_stripe):  # noqa: F811
    client.force_login(staff_member(Role.FINANCE, preferred_language="en"))
    fake_stripe.answer_next(
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "code": "charge_already_refunded",
                "message": "Charge has already been refunded.",
            }
        },
    )

    response = client.post(page(order, "refund"), {}, HTTP_ACCEPT_LANGUAGE="en")

    refund = Refund.objects.get()
    assert refund.status == "failed"
    assert said(response) == [
        (
            "error",
            f"Refund of 5800.00 CRC failed ({refund.failure_message}): finance asks the "
            "gateway again from the refunds list.",
        )
    ]


def test_a_refusal_of_the_service_is_a_message_and_changes_nothing(client, order):
    cashier = staff_member(Role.TICKET_OFFICE, preferred_language="en")
    payments.order_cancel(order=order, actor=cashier)
    client.force_login(cashier)
    before = state(order)

    response = client.post(page(order, "cancel"), {}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302
    assert said(response) == [("error", "The order is already cancelled.")]
    assert state(order) == before


@pytest.mark.parametrize(
    ("role", "buttons"),
    [
        (Role.TICKET_OFFICE, ["cancel"]),
        (Role.FINANCE, ["cancel", "refund"]),
    ],
)
def test_the_orders_page_offers_what_the_role_may_do(client, order, role, buttons):
    client.force_login(staff_member(role))
    html = client.get(f"/admin/payments/order/{order.pk}/change/").content.decode()
    assert [what for what in ("cancel", "refund") if page(order, what) in html] == buttons


@pytest.mark.parametrize(
    ("role", "what"),
    [
        (Role.TICKET_OFFICE, "refund"),
        (Role.GATE_STAFF, "cancel"),
        (Role.GATE_STAFF, "refund"),
        (Role.CURATOR, "cancel"),
        (Role.AUDITOR, "refund"),
    ],
)
def test_roles_without_the_power_are_refused_and_nothing_changes(client, order, role, what):
    client.force_login(staff_member(role))
    before = state(order)

    assert client.get(page(order, what)).status_code == 403
    assert client.post(page(order, what), {"reason": "no"}).status_code == 403
    assert state(order) == before
    assert Order.objects.get().status == OrderStatus.PAID
