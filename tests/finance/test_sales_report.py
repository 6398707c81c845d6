"""GET /api/v1/payments/reports/sales/: exact values of each grouping of a small March."""

import pytest

from tests.helpers import client_for

from .conftest import MARCH, SALES

pytestmark = pytest.mark.django_db

TOTALS = {"orders": 5, "items": 12, "gross": "33850.00"}


def row(key, label, orders, items, gross):
    return {"key": key, "label": label, "orders": orders, "items": items, "gross": gross}


def sales(march, **params):
    response = client_for(march.finance).get(SALES, {**MARCH, **params})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_by_day_in_the_park_time_zone_with_every_day(march):
    # A was paid at 23:30 of the 1st (the 2nd in UTC): the 1st. The 4th sold nothing: zeros.
    # The sale of 23:59 on Feb 28th (March 1st in UTC) is not in March.
    assert sales(march, group_by="day") == {
        "from": "2026-03-01",
        "to": "2026-03-04",
        "group_by": "day",
        "currency": "CRC",
        "rows": [
            row("2026-03-01", "2026-03-01", 1, 2, "5800.00"),
            row("2026-03-02", "2026-03-02", 2, 4, "17900.00"),
            row("2026-03-03", "2026-03-03", 2, 6, "10150.00"),
            row("2026-03-04", "2026-03-04", 0, 0, "0.00"),
        ],
        "totals": TOTALS,
    }


def test_day_is_the_default_grouping(march):
    assert sales(march) == sales(march, group_by="day")


def test_one_day(march):
    body = sales(march, **{"from": "2026-03-01", "to": "2026-03-01"})
    assert body["rows"] == [
        {"key": "2026-03-01", "label": "2026-03-01", "orders": 1, "items": 2, "gross": "5800.00"}
    ]
    assert body["totals"] == {"orders": 1, "items": 2, "gross": "5800.00"}


def test_by_ticket_type_then_other_kinds_of_line(march):
    body = sales(march, group_by="ticket_type")
    adult, child = str(march.adult.pk), str(march.child.pk)
    assert body["rows"] == [
        {"key": adult, "label": "Adulto nacional", "orders": 3, "items": 4, "gross": "11600.00"},
        {"key": child, "label": "Niño", "orders": 2, "items": 5, "gross": "7250.00"},
        {"key": "donation", "label": "donation", "orders": 1, "items": 1, "gross": "5000.00"},
        {"key": "enrollment", "label": "enrollment", "orders": 1, "items": 2, "gross": "10000.00"},
    ]
    # An order with lines of two types counts once in the totals (B: adult and child).
    assert body["totals"] == TOTALS
    assert body["group_by"] == "ticket_type"


def test_ticket_type_names_in_the_request_language(march):
    response = client_for(march.finance).get(
        SALES, {**MARCH, "group_by": "ticket_type"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert [row["label"] for row in response.json()["rows"]] == [
        "Adult (national)",
        "Child",
        "donation",
        "enrollment",
    ]


def test_by_channel(march):
    body = sales(march, group_by="channel")
    assert body["rows"] == [
        {"key": "counter", "label": "Boletería", "orders": 1, "items": 3, "gross": "4350.00"},
        {"key": "online", "label": "En línea", "orders": 4, "items": 9, "gross": "29500.00"},
    ]
    assert body["totals"] == TOTALS


def test_by_gateway_of_the_payment_that_paid(march):
    body = sales(march, group_by="gateway")
    assert body["rows"] == [
        row("cash", "Efectivo en boletería", 1, 3, "4350.00"),
        row("sandbox", "Pasarela de pruebas (sandbox)", 3, 6, "14500.00"),
        row("unknown", "Desconocido", 1, 3, "15000.00"),
    ]
    assert body["totals"] == TOTALS


def test_a_period_without_sales(march):
    body = sales(march, **{"from": "2025-01-01", "to": "2025-01-02"}, group_by="gateway")
    assert body["rows"] == []
    assert body["totals"] == {"orders": 0, "items": 0, "gross": "0.00"}
