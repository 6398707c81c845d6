"""What the review-10 tests share."""

from decimal import Decimal

from apps.business.payments import services
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Order, OrderStatus, PaymentStatus
from tests.factories import TicketTypeFactory, TimeSlotFactory


def two_line_order_paid_by_stripe(user, fake_stripe, api_client) -> Order:
    """An adult (2,900.00) and a child (2,900.00) in one slot: 5,800.00 taken by Stripe."""
    slot = TimeSlotFactory(capacity=10)
    adult = TicketTypeFactory(code="adult", price=Decimal("2900.00"))
    child = TicketTypeFactory(code="child", price=Decimal("2900.00"))
    order = services.order_create(
        actor=user,
        lines=[
            LineRequest(kind="ticket", quantity=1, fields={"slot": slot.pk, "ticket_type": t.pk})
            for t in (adult, child)
        ],
    )
    payment = services.order_pay(order=order, actor=user, method="stripe")
    assert payment.status == PaymentStatus.PENDING
    assert fake_stripe.confirm(payment.gateway_reference).post(api_client).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order
