"""What the payments services share."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from apps.integrations.payments.currency import currency_exponent
from apps.support.common.locking import lock_rows

from ..models import (
    Order,
    Payment,
)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Gateways take integers: ₡2,900.00 is 290000 céntimos (half a minor unit rounds up)."""
    exponent = currency_exponent(currency)
    return int((amount * (10**exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    """What a gateway states in minor units, as the park's amounts (two decimal places)."""
    return (Decimal(amount_minor).scaleb(-currency_exponent(currency))).quantize(Decimal("0.01"))


def lock_order(order_id: int) -> Order:
    return lock_rows(Order.objects.filter(pk=order_id))[0]


def order_kinds(order: Order) -> list[str]:
    return sorted({line.kind for line in order.lines.all()})


def payment_attempt_new(*, order: Order, method: str, actor: Any) -> Payment:
    """A new attempt to pay the whole of ``order`` (pending until its gateway answers)."""
    return Payment.objects.create(
        order=order, method=method, amount=order.total, currency=order.currency, created_by=actor
    )
