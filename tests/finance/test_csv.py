"""The reports as CSV: Accept: text/csv or ?format=csv; cells a spreadsheet never runs;
errors stay JSON in the one error shape."""

from decimal import Decimal

import pytest

from apps.business.tickets.models import TicketType
from apps.support.common.csv_export import csv_cell
from tests.helpers import client_for

from .conftest import MARCH, REFUNDS, SALES

pytestmark = pytest.mark.django_db

SALES_BY_DAY = (
    "key,label,orders,items,gross,currency\r\n"
    "2026-03-01,2026-03-01,1,2,5800.00,CRC\r\n"
    "2026-03-02,2026-03-02,2,4,17900.00,CRC\r\n"
    "2026-03-03,2026-03-03,2,6,10150.00,CRC\r\n"
    "2026-03-04,2026-03-04,0,0,0.00,CRC\r\n"
)


def test_sales_csv_by_accept_header(march):
    response = client_for(march.finance).get(SALES, MARCH, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="sales-day-2026-03-01-2026-03-04.csv"'
    )
    assert response.content.decode() == SALES_BY_DAY


def test_sales_csv_by_format_parameter(march):
    response = client_for(march.finance).get(SALES, {**MARCH, "format": "csv"})
    assert response.status_code == 200
    assert response.content.decode() == SALES_BY_DAY


def test_format_json_wins_over_accept(march):
    response = client_for(march.finance).get(
        SALES, {**MARCH, "format": "json"}, HTTP_ACCEPT="text/csv"
    )
    assert response["Content-Type"] == "application/json"


def test_sales_csv_by_ticket_type_with_a_name_a_spreadsheet_would_run(march):
    TicketType.objects.filter(pk=march.child.pk).update(name_es='=HYPERLINK("http://x","y")')
    response = client_for(march.finance).get(
        SALES, {**MARCH, "group_by": "ticket_type", "format": "csv"}
    )
    assert response.content.decode() == (
        "key,label,orders,items,gross,currency\r\n"
        f"{march.adult.pk},Adulto nacional,3,4,11600.00,CRC\r\n"
        f'{march.child.pk},"\'=HYPERLINK(""http://x"",""y"")",2,5,7250.00,CRC\r\n'
        "donation,donation,1,1,5000.00,CRC\r\n"
        "enrollment,enrollment,1,2,10000.00,CRC\r\n"
    )


def test_refunds_csv(march):
    response = client_for(march.finance).get(
        REFUNDS, {**MARCH, "group_by": "gateway"}, HTTP_ACCEPT="text/csv"
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="refunds-gateway-2026-03-01-2026-03-04.csv"'
    )
    assert response.content.decode() == (
        "key,label,refunds,orders,amount,currency\r\n"
        "cash,Efectivo en boletería,1,1,1450.00,CRC\r\n"
        "sandbox,Pasarela de pruebas (sandbox),1,1,2900.00,CRC\r\n"
    )


def test_errors_stay_json_when_csv_was_asked_for(march):
    response = client_for(march.finance).get(SALES, {"format": "csv"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert {error["field"] for error in body["errors"]} == {"from", "to"}
    anonymous = client_for(None).get(SALES, {**MARCH, "format": "csv"})
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_starting_as_a_formula_is_shown_never_run(start):
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert csv_cell(Decimal("12.50")) == "12.50"
