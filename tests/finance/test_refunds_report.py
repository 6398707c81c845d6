"""GET /api/v1/payments/reports/refunds/: money given back, on the local day it was confirmed."""

import pytest

from tests.helpers import client_for

from .conftest import MARCH, REFUNDS

pytestmark = pytest.mark.django_db


def row(key, label, refunds, orders, amount):
    return {"key": key, "label": label, "refunds": refunds, "orders": orders, "amount": amount}


def refunds(march, **params):
    response = client_for(march.finance).get(REFUNDS, {**MARCH, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_by_day_is_the_default_with_every_day(march):
    # C's 1450 was confirmed at 23:30 of the 3rd (the 4th in UTC): the 3rd. The pending
    # refund gave nothing back.
    assert refunds(march) == {
        "from": "2026-03-01",
        "to": "2026-03-04",
        "group_by": "day",
        "currency": "CRC",
        "rows": [
            row("2026-03-01", "2026-03-01", 0, 0, "0.00"),
            row("2026-03-02", "2026-03-02", 0, 0, "0.00"),
            row("2026-03-03", "2026-03-03", 1, 1, "1450.00"),
            row("2026-03-04", "2026-03-04", 1, 1, "2900.00"),
        ],
        "totals": {"refunds": 2, "orders": 2, "amount": "4350.00"},
    }


def test_by_gateway(march):
    body = refunds(march, group_by="gateway")
    assert body["rows"] == [
        row("cash", "Efectivo en boletería", 1, 1, "1450.00"),
        row("sandbox", "Pasarela de pruebas (sandbox)", 1, 1, "2900.00"),
    ]
    assert body["totals"] == {"refunds": 2, "orders": 2, "amount": "4350.00"}


def test_refunded_sales_stay_sales_of_the_day_they_were_paid(march):
    sales = client_for(march.finance).get(
        "/api/v1/payments/reports/sales/", {"from": "2026-03-02", "to": "2026-03-02"}
    )
    assert sales.json()["totals"] == {"orders": 2, "items": 4, "gross": "17900.00"}  # G in it
