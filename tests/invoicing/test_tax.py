"""VAT inside prices: per line, half up to cents; lines and totals always add up."""

from decimal import Decimal

import pytest

from apps.business.invoicing.tax import DocumentLine, document_line, document_totals, tax_included

RATE = Decimal("0.13")


@pytest.mark.parametrize(
    ("total", "tax"),
    [
        ("2900.00", "333.63"),  # 333.6283
        ("5800.00", "667.26"),  # 667.2566
        ("1450.00", "166.81"),  # 166.8142
        ("113.00", "13.00"),  # exact
        ("0.01", "0.00"),  # 0.00115
        ("0.05", "0.01"),  # 0.00575
        ("0.00", "0.00"),
        ("9999999999.99", "1150442477.87"),  # the largest amount a document holds
    ],
)
def test_the_tax_inside_a_price_at_13_percent(total, tax):
    assert tax_included(Decimal(total), RATE) == Decimal(tax)


def test_half_a_cent_rounds_up():
    # At 100 %, half of 0.05 is 0.025: half up gives 0.03 (half even would give 0.02).
    assert tax_included(Decimal("0.05"), Decimal("1")) == Decimal("0.03")
    assert tax_included(Decimal("0.07"), Decimal("1")) == Decimal("0.04")


def test_a_line_and_a_document_add_up_exactly():
    lines = [
        document_line(description="A", quantity=3, unit_price=Decimal("0.99"), rate=RATE),
        document_line(description="B", quantity=1, unit_price=Decimal("1450"), rate=RATE),
        document_line(description="C", quantity=7, unit_price=Decimal("333.33"), rate=RATE),
    ]
    for line in lines:
        assert line.net + line.tax == line.total == line.unit_price * line.quantity
    totals = document_totals(lines)
    assert totals.total == sum(line.total for line in lines) == Decimal("3786.28")
    # 0.3417 -> 0.34, 166.8142 -> 166.81, 268.4338 -> 268.43
    assert [line.tax for line in lines] == [Decimal("0.34"), Decimal("166.81"), Decimal("268.43")]
    assert totals.tax == Decimal("435.58")
    assert totals.net + totals.tax == totals.total


def test_a_stored_line_reads_back_the_same():
    line = document_line(description="Adulto", quantity=2, unit_price=Decimal("2900"), rate=RATE)
    assert line.as_json() == {
        "description": "Adulto",
        "quantity": 2,
        "unit_price": "2900.00",
        "net": "5132.74",
        "tax": "667.26",
        "total": "5800.00",
    }
    assert DocumentLine.from_json(line.as_json()) == line
