"""Every list endpoint issues the same number of queries for a page of 1 and a page of 50."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.business.infrastructure import services as infrastructure
from apps.business.wildlife.models import MedicalRecord
from apps.support.audit import services as audit
from apps.support.security.roles import Role
from tests.factories import (
    AnimalFactory,
    HabitatFactory,
    SectionFactory,
    SpeciesFactory,
)
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db


def fill_habitats(count):
    for _ in range(count):
        habitat = HabitatFactory()
        infrastructure.water_range_set(
            habitat=habitat, parameter="ph", minimum=Decimal(8), maximum=Decimal("8.4")
        )
        AnimalFactory(current_habitat=habitat)


def fill_readings(count):
    habitat = HabitatFactory()
    infrastructure.water_range_set(
        habitat=habitat, parameter="ph", minimum=Decimal(8), maximum=Decimal("8.4")
    )
    aquarist = staff_member(Role.AQUARIST)
    start = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    for index in range(count):
        infrastructure.water_reading_record(
            actor=aquarist,
            habitat=habitat,
            taken_at=start + datetime.timedelta(hours=index),
            values={"ph": Decimal("7.5")},
        )


def fill_alerts(count):
    aquarist = staff_member(Role.AQUARIST)
    for _ in range(count):
        habitat = HabitatFactory()
        infrastructure.water_range_set(
            habitat=habitat, parameter="ph", minimum=Decimal(8), maximum=Decimal("8.4")
        )
        infrastructure.water_reading_record(
            actor=aquarist,
            habitat=habitat,
            taken_at=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
            values={"ph": Decimal("7")},
        )


def fill_ranges(count):
    for _ in range(count):
        infrastructure.water_range_set(
            habitat=HabitatFactory(), parameter="ph", minimum=Decimal(8), maximum=Decimal(9)
        )


def fill_medical(count):
    vet = staff_member(Role.VETERINARIAN)
    animal = AnimalFactory()
    MedicalRecord.objects.bulk_create(
        MedicalRecord(
            animal=animal,
            kind="exam",
            performed_on="2026-11-01",
            summary=f"Exam {i}",
            veterinarian=vet,
        )
        for i in range(count)
    )


def fill_events(count):
    for index in range(count):
        audit.record(action="test.list", metadata={"index": index})


def fill_users(count):
    for _ in range(count):
        staff_member(Role.EDUCATOR)


LISTS = [
    ("/api/v1/infrastructure/sections/", lambda n: SectionFactory.create_batch(n)),
    ("/api/v1/infrastructure/habitats/", fill_habitats),
    ("/api/v1/infrastructure/water-ranges/", fill_ranges),
    ("/api/v1/infrastructure/water-readings/", fill_readings),
    ("/api/v1/infrastructure/water-alerts/", fill_alerts),
    ("/api/v1/wildlife/species/", lambda n: SpeciesFactory.create_batch(n)),
    ("/api/v1/wildlife/animals/", lambda n: AnimalFactory.create_batch(n)),
    ("/api/v1/wildlife/medical-records/", fill_medical),
    ("/api/v1/audit/events/", fill_events),
    ("/api/v1/security/users/", fill_users),
    ("/api/v1/security/roles/", lambda n: None),
]


@pytest.mark.parametrize(("url", "fill"), LISTS, ids=[url.split("/v1/")[1] for url, _ in LISTS])
def test_query_count_does_not_grow_with_the_page(url, fill, administrator):
    fill(55)
    client = client_for(administrator)
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"page_size": size})
        assert response.status_code == 200
        expected_rows = min(size, response.json()["count"])
        assert len(response.json()["results"]) == expected_rows
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
