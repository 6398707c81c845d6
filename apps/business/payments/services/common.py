"""What the payments services share."""

from decimal import ROUND_HALF_UP, Decimal

from apps.support.common.locking import lock_rows

from ..models import (
    Order,
)

# ISO 4217 currencies whose minor unit is not the cent.
ZERO_DECIMAL_CURRENCIES = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "MGA",
    "PYG",
    "RWF",
    "UGX",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}
THREE_DECIMAL_CURRENCIES = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Gateways take integers: ₡2,900.00 is 290000 céntimos (half a minor unit rounds up)."""
    code = currency.upper()
    exponent = (
        0 if code in ZERO_DECIMAL_CURRENCIES else 3 if code in THREE_DECIMAL_CURRENCIES else 2
    )
    return int((amount * (10**exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def lock_order(order_id: int) -> Order:
    return lock_rows(Order.objects.filter(pk=order_id))[0]


def order_kinds(order: Order) -> list[str]:
    return sorted({line.kind for line in order.lines.all()})
