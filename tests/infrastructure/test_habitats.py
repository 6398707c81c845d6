"""Habitats: capacity never below the animals living there; water alerts follow the newest
reading."""

import datetime
from decimal import Decimal

import pytest

from apps.business.infrastructure import services as infrastructure
from apps.business.infrastructure.models import WaterAlert
from apps.support.security.roles import Role
from tests.factories import AnimalFactory, HabitatFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db


def test_capacity_never_drops_below_occupancy():
    administrator = staff_member(Role.ADMINISTRATOR)
    pool = HabitatFactory(capacity=5)
    AnimalFactory.create_batch(3, current_habitat=pool)
    response = client_for(administrator).patch(
        f"/api/v1/infrastructure/habitats/{pool.pk}/", {"capacity": 2}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "capacity_below_occupancy")
    pool.refresh_from_db()
    assert pool.capacity == 5
    assert (
        client_for(administrator)
        .patch(f"/api/v1/infrastructure/habitats/{pool.pk}/", {"capacity": 3}, format="json")
        .status_code
        == 200
    )


def test_a_reading_entered_late_leaves_the_alert_to_newer_readings():
    aquarist = staff_member(Role.AQUARIST)
    tank = HabitatFactory()
    infrastructure.water_range_set(
        habitat=tank, parameter="ph", minimum=Decimal("7.9"), maximum=Decimal("8.4")
    )
    at = datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC)
    infrastructure.water_reading_record(
        actor=aquarist, habitat=tank, taken_at=at, values={"ph": Decimal(9)}
    )
    late = infrastructure.water_reading_record(
        actor=aquarist,
        habitat=tank,
        taken_at=at - datetime.timedelta(hours=2),
        values={"ph": Decimal(8)},
    )
    assert late.out_of_range == {}
    alert = WaterAlert.objects.get()
    assert (alert.closed_at, alert.last_value) == (None, Decimal("9.000"))
