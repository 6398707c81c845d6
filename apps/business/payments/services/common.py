"""What the payments services share."""

from decimal import Decimal

from apps.support.common.locking import lock_rows
from apps.support.security.roles import Role

from ..models import (
    Order,
)

COUNTER_ROLES = (Role.TICKET_OFFICE,)
ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "CLP", "PYG", "VND", "ISK", "UGX", "XAF", "XOF"}


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Gateways take integers: ₡2,900.00 is 290000 céntimos."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return int((amount * (10**exponent)).to_integral_value())


def lock_order(order_id: int) -> Order:
    return lock_rows(Order.objects.filter(pk=order_id))[0]


def order_kinds(order: Order) -> list[str]:
    return sorted({line.kind for line in order.lines.all()})
