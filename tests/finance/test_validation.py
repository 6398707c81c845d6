"""What a report refuses: 400 validation_error with field errors, never a 500."""

import pytest

from apps.support.security.roles import Role
from tests.helpers import client_for, staff_member

from .conftest import REFUNDS, SALES

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance():
    return client_for(staff_member(Role.FINANCE))


def refused(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    return {(error["field"], error["code"]) for error in body["errors"]}


def test_from_and_to_are_required(finance):
    assert refused(finance.get(SALES)) == {("from", "required"), ("to", "required")}
    assert refused(finance.get(SALES, {"from": "", "to": ""})) == {
        ("from", "required"),
        ("to", "required"),
    }


def test_to_not_before_from(finance):
    assert refused(finance.get(SALES, {"from": "2026-03-02", "to": "2026-03-01"})) == {
        ("to", "invalid")
    }


def test_at_most_366_days(finance):
    leap_year = {"from": "2024-01-01", "to": "2024-12-31"}
    assert finance.get(SALES, leap_year).status_code == 200
    assert len(finance.get(REFUNDS, leap_year).json()["rows"]) == 366
    assert refused(finance.get(SALES, {"from": "2024-01-01", "to": "2025-01-01"})) == {
        ("to", "invalid")
    }


@pytest.mark.parametrize(
    "value",
    [
        "2026-3-1",
        "01/03/2026",
        "2026-02-30",
        "2026-03-01T00:00",
        "١٩٩٩-01-01",  # other scripts' digits
        "9999-12-31",
        "1899-12-31",
        "9" * 5000,
        "-2026-03-01",
        "20260301",
    ],
)
def test_dates_written_otherwise_are_refused(finance, value):
    assert refused(finance.get(SALES, {"from": value, "to": "2026-03-01"})) == {("from", "invalid")}


def test_the_earliest_and_latest_days(finance):
    assert finance.get(SALES, {"from": "1900-01-01", "to": "1900-01-31"}).status_code == 200
    assert finance.get(SALES, {"from": "2999-12-01", "to": "2999-12-31"}).status_code == 200


@pytest.mark.parametrize("url", [SALES, REFUNDS])
def test_unknown_grouping(finance, url):
    params = {"from": "2026-03-01", "to": "2026-03-01", "group_by": "campaign"}
    assert refused(finance.get(url, params)) == {("group_by", "invalid_choice")}


def test_refunds_are_not_grouped_by_ticket_type(finance):
    params = {"from": "2026-03-01", "to": "2026-03-01", "group_by": "ticket_type"}
    assert refused(finance.get(REFUNDS, params)) == {("group_by", "invalid_choice")}


def test_unknown_parameters_and_nul(finance):
    params = {"from": "2026-03-01", "to": "2026-03-01"}
    assert refused(finance.get(SALES, {**params, "page": "2"})) == {("page", "unknown_field")}
    assert refused(finance.get(SALES, {**params, "group_by": "day\x00"})) == {
        ("group_by", "null_characters_not_allowed")
    }


def test_a_parameter_sent_twice_counts_once_the_last(finance):
    response = finance.get(SALES + "?from=2026-01-01&from=2026-03-01&to=2026-03-02")
    assert response.status_code == 200
    assert response.json()["from"] == "2026-03-01"


def test_an_unknown_format_is_not_found(finance):
    response = finance.get(SALES, {"from": "2026-03-01", "to": "2026-03-01", "format": "xml"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
