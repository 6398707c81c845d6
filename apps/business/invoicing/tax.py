"""VAT included in prices, and the amounts of a document's lines.

Prices (and so the lines of orders) include VAT at ``settings.TAX_RATE``, as Costa Rican
consumer prices do. Each line of an invoice or a credit note states:

    total = unit_price * quantity            what the buyer paid for the line
    tax   = total - total / (1 + rate)       rounded half up to cents
    net   = total - tax

and the document's total, tax and net are the sums of its lines'. Rounding per line (Costa
Rica's electronic invoices state each line's tax too) makes every sum exact: the lines add up
to the document's figures to the cent, net + tax = total on every line and on the document,
and a credit note that repeats lines of an invoice repeats their tax exactly.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from apps.integrations.payments.currency import currency_exponent

CENT = Decimal("0.01")


def smallest_coin(currency: str) -> Decimal:
    """What amounts of ``currency`` are rounded to: cents, or whole units where the currency
    has no minor unit (1 yen)."""
    return Decimal(1).scaleb(-min(currency_exponent(currency), 2))


def tax_included(total: Decimal, rate: Decimal, quantum: Decimal = CENT) -> Decimal:
    """The VAT inside ``total`` at ``rate`` (0.13 for 13 %), rounded half up to ``quantum``
    (cents; whole units of a currency without a minor unit)."""
    return (total - total / (1 + rate)).quantize(quantum, rounding=ROUND_HALF_UP).quantize(CENT)


@dataclass(frozen=True)
class DocumentLine:
    """One printed line of an invoice or credit note (amounts in the document's currency)."""

    description: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    tax: Decimal

    @property
    def net(self) -> Decimal:
        return self.total - self.tax

    def as_json(self) -> dict[str, Any]:
        """As stored in ``Invoice.lines``: amounts as decimal strings, never floats."""
        return {
            "description": self.description,
            "quantity": self.quantity,
            "unit_price": str(self.unit_price),
            "net": str(self.net),
            "tax": str(self.tax),
            "total": str(self.total),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "DocumentLine":
        return cls(
            description=data["description"],
            quantity=int(data["quantity"]),
            unit_price=Decimal(data["unit_price"]),
            total=Decimal(data["total"]),
            tax=Decimal(data["tax"]),
        )


def document_line(
    *, description: str, quantity: int, unit_price: Decimal, rate: Decimal, quantum: Decimal = CENT
) -> DocumentLine:
    unit_price = unit_price.quantize(CENT, rounding=ROUND_HALF_UP)
    total = unit_price * quantity
    return DocumentLine(
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        total=total,
        tax=tax_included(total, rate, quantum),
    )


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal
    total: Decimal


def document_totals(lines: Iterable[DocumentLine]) -> Totals:
    lines = list(lines)
    tax = sum((line.tax for line in lines), Decimal("0.00"))
    total = sum((line.total for line in lines), Decimal("0.00"))
    return Totals(net=total - tax, tax=tax, total=total)
