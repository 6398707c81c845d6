"""Water readings and alerts in the back office: a reading recorded there goes through
``services.water_reading_record`` (flagged, alert opened, audited) as the API's does."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.infrastructure import services
from apps.business.infrastructure.models import WaterAlert, WaterReading
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import AnimalFactory, HabitatFactory
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db

ADD = "/admin/infrastructure/waterreading/add/"
ALERTS = "/admin/infrastructure/wateralert/"


@pytest.fixture
def tank():
    habitat = HabitatFactory(name="Arrecife principal")
    services.water_range_set(
        habitat=habitat, parameter="temperature", minimum=Decimal("24"), maximum=Decimal("28")
    )
    services.water_range_set(
        habitat=habitat, parameter="ph", minimum=Decimal("7.9"), maximum=Decimal("8.4")
    )
    return habitat


def reading(tank, **values):
    return {
        "habitat": tank.pk,
        "taken_at_0": "2026-11-20",
        "taken_at_1": "08:00:00",
        "notes": "",
        **values,
    }


def test_a_reading_out_of_range_opens_exactly_one_alert(client, tank):
    aquarist = staff_member(Role.AQUARIST)
    client.force_login(aquarist)
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, reading(tank, temperature="29.5", ph="8.1"))
    assert response.status_code == 302
    stored = WaterReading.objects.get()
    assert (
        stored.habitat,
        stored.taken_by,
        stored.temperature,
        stored.ph,
        stored.out_of_range,
    ) == (
        tank,
        aquarist,
        Decimal("29.500"),
        Decimal("8.100"),
        {"temperature": "high"},
    )
    alert = WaterAlert.objects.get()
    assert (
        alert.habitat,
        alert.parameter,
        alert.direction,
        alert.last_value,
        alert.opened_by_reading,
        alert.closed_at,
    ) == (tank, "temperature", "high", Decimal("29.500"), stored, None)
    assert alert.opened_at == datetime.datetime(
        2026, 11, 20, 8, 0, tzinfo=timezone.get_current_timezone()
    )
    event = AuditEvent.objects.get(action="infrastructure.water_reading.recorded")
    assert (event.actor_id, event.target_id, event.metadata["out_of_range"]) == (
        aquarist.pk,
        str(stored.pk),
        {"temperature": "high"},
    )


def test_a_reading_in_range_opens_no_alert(client, tank):
    client.force_login(staff_member(Role.AQUARIST))
    response = client.post(ADD, reading(tank, temperature="26.0", ph="8.1"))
    assert response.status_code == 302
    assert WaterReading.objects.get().out_of_range == {}
    assert WaterAlert.objects.count() == 0


def test_a_reading_without_values_is_refused_on_the_form_and_nothing_is_stored(client, tank):
    client.force_login(staff_member(Role.AQUARIST))
    response = client.post(ADD, reading(tank))
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Una lectura necesita al menos un valor."
    ]
    assert WaterReading.objects.count() == 0
    assert AuditEvent.objects.filter(action="infrastructure.water_reading.recorded").count() == 0


@pytest.mark.parametrize("role", [Role.CURATOR, Role.VETERINARIAN])
def test_roles_that_only_read_readings_get_403_and_nothing_is_stored(client, tank, role):
    client.force_login(staff_member(role))
    assert client.get("/admin/infrastructure/waterreading/").status_code == 200
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, reading(tank, temperature="29.5")).status_code == 403
    assert WaterReading.objects.count() == 0
    assert WaterAlert.objects.count() == 0


def test_the_alert_list_shows_hours_open_and_filters_open_closed_and_by_habitat(client, tank):
    aquarist = staff_member(Role.AQUARIST)
    other = HabitatFactory(name="Laguna")
    services.water_range_set(
        habitat=other, parameter="ph", minimum=Decimal("7.9"), maximum=Decimal("8.4")
    )
    now = timezone.now()

    def record(habitat, hours_ago, **values):
        services.water_reading_record(
            actor=aquarist,
            habitat=habitat,
            taken_at=now - datetime.timedelta(hours=hours_ago),
            values={name: Decimal(value) for name, value in values.items()},
        )

    record(tank, 5, temperature="30")  # opens, stays open 5 h
    record(other, 10, ph="7.0")  # opens...
    record(other, 7, ph="8.0")  # ...closed 3 h later
    client.force_login(staff_member(Role.CURATOR))

    def rows(**query):
        response = client.get(ALERTS, query)
        assert response.status_code == 200
        admin = response.context["cl"].model_admin
        return [
            (alert.habitat.name, alert.parameter, admin.hours_open(alert))
            for alert in response.context["cl"].result_list
        ]

    assert rows(state="open") == [("Arrecife principal", "temperature", "5,0")]
    assert rows(state="closed") == [("Laguna", "ph", "3,0")]
    assert rows(habitat__id__exact=other.pk) == [("Laguna", "ph", "3,0")]
    assert rows() == [("Arrecife principal", "temperature", "5,0"), ("Laguna", "ph", "3,0")]
    assert "5,0" in client.get(ALERTS, {"state": "open"}).content.decode()


@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.TICKET_OFFICE])
def test_the_alerts_are_not_shown_to_roles_the_api_refuses(client, role):
    client.force_login(staff_member(role))
    assert client.get(ALERTS).status_code == 403


def habitat_form(habitat, **changes):
    """The habitat's change form as stored, with ``changes``, and its ranges inline empty."""
    return {
        "name": habitat.name,
        "section": habitat.section_id,
        "kind": habitat.kind,
        "water_type": habitat.water_type,
        "volume_litres": habitat.volume_litres or "",
        "capacity": habitat.capacity,
        "is_public": "on" if habitat.is_public else "",
        "description": habitat.description,
        "water_ranges-TOTAL_FORMS": "0",
        "water_ranges-INITIAL_FORMS": "0",
        **changes,
    }


def test_a_habitats_capacity_below_its_animals_is_refused_as_through_the_api(client, administrator):
    """The back office writes habitats through ``habitat_update``: the rule that a capacity
    never drops below the animals living there holds on its form too."""
    habitat = HabitatFactory(capacity=5)
    AnimalFactory.create_batch(3, current_habitat=habitat)
    page = f"/admin/infrastructure/habitat/{habitat.pk}/change/"
    client.force_login(administrator)

    refused = client.post(page, habitat_form(habitat, capacity=2))

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {
        "capacity": ["Animales que viven aquí: 3; la capacidad no puede ser menor."]
    }
    habitat.refresh_from_db()
    assert habitat.capacity == 5

    saved = client.post(page, habitat_form(habitat, capacity=3, name="Laguna"))

    assert saved.status_code == 302
    habitat.refresh_from_db()
    assert (habitat.capacity, habitat.name) == (3, "Laguna")


def test_a_target_range_the_api_refuses_is_refused_on_the_habitats_form(client, administrator):
    """The ranges inline asks ``water_range_check`` as ``water_range_set`` does: no range for
    a habitat without water, none with its minimum above its maximum; nothing is saved."""
    habitat = HabitatFactory(water_type="none", volume_litres=None)
    page = f"/admin/infrastructure/habitat/{habitat.pk}/change/"
    client.force_login(administrator)
    ranges = {
        "water_ranges-TOTAL_FORMS": "1",
        "water_ranges-0-parameter": "ph",
        "water_ranges-0-minimum": "7.9",
        "water_ranges-0-maximum": "8.4",
    }

    refused = client.post(page, habitat_form(habitat, **ranges))

    assert refused.status_code == 200
    assert [form.errors for form in refused.context["inline_admin_formsets"][0].formset] == [
        {"__all__": ["Este hábitat no tiene agua."]}
    ]
    inverted = client.post(
        page,
        habitat_form(
            habitat,
            water_type="salt",
            volume_litres=50000,
            **{**ranges, "water_ranges-0-minimum": "9"},
        ),
    )
    assert [form.errors for form in inverted.context["inline_admin_formsets"][0].formset] == [
        {"__all__": ["El mínimo es mayor que el máximo."]}
    ]
    habitat.refresh_from_db()
    assert (habitat.water_type, habitat.water_ranges.count()) == ("none", 0)

    saved = client.post(
        page, habitat_form(habitat, water_type="salt", volume_litres=50000, **ranges)
    )

    assert saved.status_code == 302
    assert list(habitat.water_ranges.values_list("parameter", "minimum", "maximum")) == [
        ("ph", Decimal("7.900"), Decimal("8.400"))
    ]
