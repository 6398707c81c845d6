"""A small March of sales, placed in time: orders sold through the real services (online with
the sandbox gateway, at the counter in cash), one made by hand holding a donation and an
enrollment (a paid order with no payment row), refunds through the real services; then each
moved to a fixed moment of the park's time zone (America/Costa_Rica, UTC-6).

The sales (local time)          lines                                  channel  gateway
A  2026-03-01 23:30 (the 2nd in UTC)  2 adult                          online   sandbox
G  2026-03-02 09:00             1 adult (refunded whole on the 4th)    online   sandbox
D  2026-03-02 00:10             1 donation 5000, 2 enrollment x 5000    online   none
B  2026-03-03 10:00             1 adult, 2 child                        online   sandbox
C  2026-03-03 12:00             3 child (1450 refunded on the 3rd, 23:30) counter cash
and, outside: one paid 2026-02-28 23:59, one 2026-04-01 00:00, one never paid, a pending
refund.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from apps.business.payments import services as payments
from apps.business.payments.models import Order, OrderLine, Payment, Refund, RefundStatus
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import staff_member
from tests.sales import place_order, ticket_lines

PARK = ZoneInfo("America/Costa_Rica")
SALES = "/api/v1/payments/reports/sales/"
REFUNDS = "/api/v1/payments/reports/refunds/"
MARCH = {"from": "2026-03-01", "to": "2026-03-04"}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARK)


def paid_at(order: Order, moment: datetime) -> Order:
    """Move a paid order (and the payment that paid it) to ``moment``."""
    Payment.objects.filter(order=order, succeeded_at=order.paid_at).update(succeeded_at=moment)
    Order.objects.filter(pk=order.pk).update(paid_at=moment)
    order.refresh_from_db()
    return order


def completed_at(refund: Refund, moment: datetime) -> None:
    Refund.objects.filter(pk=refund.pk).update(completed_at=moment)


@dataclass
class March:
    finance: object
    adult: object
    child: object


@pytest.fixture
def march(db) -> March:
    assert str(PARK) == "America/Costa_Rica"
    slot = TimeSlotFactory(capacity=60)
    adult = TicketTypeFactory(code="adult", display_order=1)
    child = TicketTypeFactory(
        code="child", name_es="Niño", name_en="Child", price=Decimal("1450.00"), display_order=2
    )
    visitor = UserFactory()
    office = staff_member(Role.TICKET_OFFICE)
    finance = staff_member(Role.FINANCE)

    def online(lines, moment):
        order = payments.order_create(actor=visitor, lines=lines)
        payments.order_pay(order=order, actor=visitor, method="sandbox")
        order.refresh_from_db()
        return paid_at(order, local(moment))

    online(ticket_lines(slot, adult, 2), "2026-03-01T23:30")  # A
    g = online(ticket_lines(slot, adult, 1), "2026-03-02T09:00")  # G
    online([*ticket_lines(slot, adult, 1), *ticket_lines(slot, child, 2)], "2026-03-03T10:00")  # B
    counter = payments.order_create(
        actor=office, lines=ticket_lines(slot, child, 3), channel="counter"
    )
    payments.order_pay(order=counter, actor=office, method="cash")
    counter.refresh_from_db()
    c = paid_at(counter, local("2026-03-03T12:00"))  # C

    d = Order.objects.create(  # D: made by hand, as a kind payments has no handler for yet
        user=visitor,
        channel="online",
        status="paid",
        currency="CRC",
        total=Decimal("15000.00"),
        expires_at=local("2026-03-02T00:25"),
        paid_at=local("2026-03-02T00:10"),
        created_by=visitor,
    )
    for kind, quantity in (("donation", 1), ("enrollment", 2)):
        OrderLine.objects.create(
            order=d,
            kind=kind,
            description=kind,
            unit_price=Decimal("5000.00"),
            quantity=quantity,
            total=Decimal("5000.00") * quantity,
            reference={"session": 1} if kind == "enrollment" else {},
        )

    online(ticket_lines(slot, adult, 1), "2026-02-28T23:59")  # the day before
    online(ticket_lines(slot, adult, 1), "2026-04-01T00:00")  # the day after
    place_order(visitor, slot, adult, 1)  # never paid

    whole = payments.refund_request(order=g, actor=finance)
    assert whole.status == RefundStatus.SUCCEEDED
    completed_at(whole, local("2026-03-04T08:00"))
    part = payments.refund_request(order=c, actor=finance, amount=Decimal("1450.00"))
    assert part.status == RefundStatus.SUCCEEDED
    completed_at(part, local("2026-03-03T23:30"))
    Refund.objects.create(  # asked for, never confirmed: nothing given back
        payment=Payment.objects.get(order=c),
        amount=Decimal("100.00"),
        currency="CRC",
        scope="amount",
        status=RefundStatus.PENDING,
    )
    return March(finance=finance, adult=adult, child=child)
