"""Query parameters the schema types are refused when unusable, not silently ignored; sent
empty, they count as not sent."""

import pytest

from apps.support.security.roles import Role
from tests.factories import SectionFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

SECTIONS = "/api/v1/infrastructure/sections/"


def assert_refused(response, field):
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert [(error["field"], error["code"]) for error in body["errors"]] == [(field, "invalid")]
    return body


@pytest.mark.parametrize("value", ["0", "-1", "abc", "2.5", "null"])
def test_an_unusable_page_size_is_refused(api_client, value):
    body = assert_refused(api_client.get(SECTIONS, {"page_size": value}), "page_size")
    assert body["errors"][0]["message"] == "Un número entero desde 1."


@pytest.mark.parametrize(("value", "size"), [("", 25), ("1", 1), ("500", 100)])
def test_page_size_empty_is_the_default_and_large_is_capped(api_client, value, size):
    SectionFactory.create_batch(101 if size == 100 else 2, is_public=True)
    response = api_client.get(SECTIONS, {"page_size": value})
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(size, response.json()["count"])


@pytest.mark.parametrize("value", ["maybe", "null", "yes", "2"])
def test_an_unusable_yes_no_filter_is_refused(api_client, value):
    body = assert_refused(api_client.get(SECTIONS, {"is_public": value}), "is_public")
    assert body["errors"][0]["message"] == "Use true o false."


@pytest.mark.parametrize(("value", "count"), [("true", 1), ("TRUE", 1), ("1", 1), ("", 1)])
def test_yes_no_filter_spellings(value, count):
    SectionFactory(is_public=True)
    SectionFactory(is_public=False)  # only staff of the collection would see it anyway
    response = client_for(None).get(SECTIONS, {"is_public": value})
    assert response.status_code == 200
    assert response.json()["count"] == count


def test_an_id_filter_takes_whole_numbers_only():
    auditor = staff_member(Role.AUDITOR)
    response = client_for(auditor).get("/api/v1/audit/events/", {"actor": "0.5"})
    assert_refused(response, "actor")
    assert client_for(auditor).get("/api/v1/audit/events/", {"actor": "1"}).status_code == 200


@pytest.mark.parametrize(("value", "status"), [("maybe", 400), ("true", 200), ("", 200)])
def test_include_closed_is_a_yes_no_parameter(value, status):
    aquarist = staff_member(Role.AQUARIST)
    response = client_for(aquarist).get(
        "/api/v1/infrastructure/water-alerts/", {"include_closed": value}
    )
    assert response.status_code == status
    if status == 400:
        assert_refused(response, "include_closed")
