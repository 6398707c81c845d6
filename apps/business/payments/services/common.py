"""What the payments services share."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from apps.integrations.payments.currency import currency_exponent
from apps.support.common.locking import lock_compiled
from apps.support.common.statements import Compiled, Insert, prefetched

from ..models import (
    Order,
    OrderLine,
    Payment,
    Refund,
)


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Gateways take integers: ₡2,900.00 is 290000 céntimos (half a minor unit rounds up)."""
    exponent = currency_exponent(currency)
    return int((amount * (10**exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    """What a gateway states in minor units, as the park's amounts (two decimal places)."""
    return (Decimal(amount_minor).scaleb(-currency_exponent(currency))).quantize(Decimal("0.01"))


_PAYMENT = Insert(Payment)  # a new attempt: its INSERT compiled once (docs/adr/0054)
_ORDER_LOCKED = Compiled(lambda pk: Order.objects.filter(pk=pk).select_for_update())
_PAYMENT_LOCKED = Compiled(lambda pk: Payment.objects.filter(pk=pk).select_for_update())


def lock_order(order_id: int) -> Order:
    return lock_compiled(_ORDER_LOCKED, order_id)[0]


def lock_payment(payment_id: int) -> Payment:
    return lock_compiled(_PAYMENT_LOCKED, payment_id)[0]


_ORDER_LINES = Compiled(lambda order: OrderLine.objects.filter(order_id=order).order_by("id"))
_ORDER_PAYMENTS = Compiled(lambda order: Payment.objects.filter(order_id=order).order_by("id"))
_ORDER_REFUNDS = Compiled(
    lambda order: Refund.objects.filter(payment__order_id=order).order_by("id")
)


def order_lines(order_id: int) -> list[OrderLine]:
    """The order's lines, oldest first (as ``selectors.order_list`` reads them)."""
    return _ORDER_LINES(order_id)


def order_payments_with_refunds(order_id: int) -> list[Payment]:
    """The order's payments, each with its refunds at hand (``refunds.all()`` reads no
    more), all oldest first: as ``selectors.order_list`` reads them for the order's answer."""
    payments = _ORDER_PAYMENTS(order_id)
    by_payment: dict[int, list[Refund]] = {payment.pk: [] for payment in payments}
    for refund in _ORDER_REFUNDS(order_id):
        by_payment[refund.payment_id].append(refund)
    for payment in payments:
        prefetched(payment, "refunds", by_payment[payment.pk])
    return payments


def order_kinds(order: Order) -> list[str]:
    return sorted({line.kind for line in order.lines.all()})


def payment_attempt_new(*, order: Order, method: str, actor: Any) -> Payment:
    """A new attempt to pay the whole of ``order`` (pending until its gateway answers)."""
    return _PAYMENT(
        {
            "order": order,
            "method": method,
            "amount": order.total,
            "currency": order.currency,
            "created_by": actor,
        }
    )
