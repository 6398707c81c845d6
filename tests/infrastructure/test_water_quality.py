"""Ranges, readings flagged out of range, alerts that open and close, chart-ready series."""

from decimal import Decimal

import pytest

from apps.business.infrastructure.models import WaterAlert, WaterReading
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import HabitatFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

READINGS = "/api/v1/infrastructure/water-readings/"
ALERTS = "/api/v1/infrastructure/water-alerts/"


@pytest.fixture
def aquarist():
    return staff_member(Role.AQUARIST)


@pytest.fixture
def tank(aquarist):
    habitat = HabitatFactory(name="Arrecife principal")
    client = client_for(aquarist)
    for parameter, low, high in (("temperature", "24", "28"), ("ph", "7.9", "8.4")):
        response = client.post(
            "/api/v1/infrastructure/water-ranges/",
            {"habitat": habitat.pk, "parameter": parameter, "minimum": low, "maximum": high},
            format="json",
        )
        assert response.status_code == 201
    return habitat


def record(client, habitat, taken_at, **values):
    return client.post(
        READINGS, {"habitat": habitat.pk, "taken_at": taken_at, **values}, format="json"
    )


def test_reading_outside_its_range_is_flagged_and_opens_one_alert(aquarist, tank):
    client = client_for(aquarist)
    first = record(client, tank, "2026-11-20T08:00:00-06:00", temperature="29.5", ph="8.1")
    assert first.status_code == 201
    assert first.json()["out_of_range"] == {"temperature": "high"}
    second = record(client, tank, "2026-11-20T12:00:00-06:00", temperature="30.1")
    assert second.json()["out_of_range"] == {"temperature": "high"}
    alerts = client.get(ALERTS).json()["results"]
    assert [(a["parameter"], a["direction"], a["last_value"], a["closed_at"]) for a in alerts] == [
        ("temperature", "high", "30.100", None)
    ]
    assert alerts[0]["opened_by_reading"] == first.json()["id"]


def test_reading_back_in_range_closes_the_alert(aquarist, tank):
    client = client_for(aquarist)
    record(client, tank, "2026-11-20T08:00:00-06:00", ph="7.5")
    closing = record(client, tank, "2026-11-20T16:00:00-06:00", ph="8.0")
    assert closing.json()["out_of_range"] == {}
    assert client.get(ALERTS).json()["count"] == 0
    closed = WaterAlert.objects.get()
    assert (closed.direction, closed.closed_by_reading_id) == ("low", closing.json()["id"])
    history = client.get(ALERTS, {"include_closed": "true"}).json()
    assert history["count"] == 1


def test_reading_without_values_or_impossible_values_is_refused(aquarist, tank):
    client = client_for(aquarist)
    empty = record(client, tank, "2026-11-20T08:00:00-06:00")
    assert (empty.status_code, empty.json()["code"]) == (400, "reading_empty")
    impossible = record(client, tank, "2026-11-20T08:00:00-06:00", ph="15")
    assert impossible.status_code == 400
    assert [e["field"] for e in impossible.json()["errors"]] == ["ph"]
    assert not WaterReading.objects.exists()


@pytest.mark.parametrize("role", [Role.CURATOR, Role.VETERINARIAN, Role.FINANCE])
def test_only_aquarists_record_readings(tank, role):
    response = record(client_for(staff_member(role)), tank, "2026-11-20T08:00:00-06:00", ph="8")
    assert response.status_code == 403
    assert not WaterReading.objects.exists()


def test_readings_are_audited(aquarist, tank):
    reading = record(client_for(aquarist), tank, "2026-11-20T08:00:00-06:00", ph="7.5").json()
    event = AuditEvent.objects.get(action="infrastructure.water_reading.recorded")
    assert (event.actor_id, event.target_id) == (aquarist.pk, str(reading["id"]))
    assert event.metadata == {
        "habitat": tank.pk,
        "values": {"ph": "7.500"},
        "out_of_range": {"ph": "low"},
    }


def test_series_is_ready_for_a_chart(aquarist, tank):
    client = client_for(aquarist)
    record(client, tank, "2026-11-21T08:00:00-06:00", temperature="26")
    record(client, tank, "2026-11-20T08:00:00-06:00", temperature="29")
    record(client, tank, "2026-11-22T08:00:00-06:00", ph="8.1")
    record(client, tank, "2026-11-25T08:00:00-06:00", temperature="25")
    response = client.get(
        f"/api/v1/infrastructure/habitats/{tank.pk}/water-series/",
        {
            "parameter": "temperature",
            "from": "2026-11-20T00:00:00-06:00",
            "to": "2026-11-24T00:00:00-06:00",
        },
    )
    assert response.status_code == 200
    assert response.json() == {
        "habitat": tank.pk,
        "parameter": "temperature",
        "unit": "°C",
        "minimum": "24.000",
        "maximum": "28.000",
        "points": [
            {"taken_at": "2026-11-20T08:00:00-06:00", "value": "29.000", "flag": "high"},
            {"taken_at": "2026-11-21T08:00:00-06:00", "value": "26.000", "flag": ""},
        ],
    }


def test_series_bounds_sent_empty_count_as_not_sent(aquarist, tank):
    client = client_for(aquarist)
    record(client, tank, "2026-11-21T08:00:00-06:00", temperature="26")
    response = client.get(
        f"/api/v1/infrastructure/habitats/{tank.pk}/water-series/",
        {"parameter": "temperature", "from": "", "to": ""},
    )
    assert response.status_code == 200
    assert response.json()["points"] == [
        {"taken_at": "2026-11-21T08:00:00-06:00", "value": "26.000", "flag": ""}
    ]


def test_series_needs_a_known_parameter(aquarist, tank):
    response = client_for(aquarist).get(
        f"/api/v1/infrastructure/habitats/{tank.pk}/water-series/", {"parameter": "lead"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "parameter"


def test_inverted_range_is_refused(aquarist, tank):
    response = client_for(aquarist).post(
        "/api/v1/infrastructure/water-ranges/",
        {"habitat": tank.pk, "parameter": "salinity", "minimum": "36", "maximum": "30"},
        format="json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "range_inverted")


def test_public_sees_only_public_habitats_without_water_details(api_client):
    public = HabitatFactory(name="Laguna", is_public=True)
    HabitatFactory(name="Cuarentena", is_public=False, kind="quarantine")
    names = [
        h["name"] for h in api_client.get("/api/v1/infrastructure/habitats/").json()["results"]
    ]
    assert names == [public.name]
    assert (
        api_client.get(f"/api/v1/infrastructure/habitats/{public.pk}/water-series/").status_code
        == 401
    )


def test_readings_are_flagged_by_decimal_comparison():
    from apps.business.infrastructure.models import WaterTargetRange

    target = WaterTargetRange(minimum=Decimal("7.9"), maximum=Decimal("8.4"))
    assert [target.verdict(Decimal(v)) for v in ("7.899", "7.9", "8.4", "8.401")] == [
        "low",
        "",
        "",
        "high",
    ]
