"""The collection in the back office: written through the wildlife services, by whoever is
signed in."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.wildlife.models import Animal, AnimalLocation, MedicalRecord, Weight
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import AnimalFactory, HabitatFactory, SpeciesFactory, UserFactory
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db


def test_a_curator_registers_an_animal_in_the_back_office_through_the_service(client):
    curator = staff_member(Role.CURATOR)
    species, habitat = SpeciesFactory(), HabitatFactory(name="Arrecife", kind="tank")
    client.force_login(curator)
    response = client.post(
        "/admin/wildlife/animal/add/",
        {
            "institutional_id": "PMP-2026-0100",
            "species": species.pk,
            "origin": "rescued",
            "habitat": habitat.pk,
            "arrived_at_0": "2026-03-02",
            "arrived_at_1": "09:30:00",
            "reason": "Rescatada en Puntarenas",
            "house_name": "Marina",
            "transponder_id": "",
            "sex": "female",
            "hatch_date": "",
            "is_public": "on",
        },
    )
    assert response.status_code == 302
    animal = Animal.objects.get()
    assert (
        animal.institutional_id,
        animal.species,
        animal.origin,
        animal.status,
        animal.status_date,
        animal.current_habitat,
        animal.house_name,
        animal.sex,
    ) == (
        "PMP-2026-0100",
        species,
        "rescued",
        "in_collection",
        datetime.date(2026, 3, 2),
        habitat,
        "Marina",
        "female",
    )
    location = AnimalLocation.objects.get()
    assert (location.habitat, location.moved_by, location.reason) == (
        habitat,
        curator,
        "Rescatada en Puntarenas",
    )
    assert location.moved_at == datetime.datetime(
        2026, 3, 2, 9, 30, tzinfo=timezone.get_current_timezone()
    )
    event = AuditEvent.objects.get(action="wildlife.animal.registered")
    assert (event.target_id, event.actor_id, event.metadata) == (
        str(animal.pk),
        curator.pk,
        {"habitat": habitat.pk, "origin": "rescued"},
    )


def test_the_back_office_refuses_an_animal_for_a_full_habitat_and_writes_nothing(client):
    curator = staff_member(Role.CURATOR)
    habitat = HabitatFactory(capacity=1)
    AnimalFactory(current_habitat=habitat)
    client.force_login(curator)
    response = client.post(
        "/admin/wildlife/animal/add/",
        {
            "institutional_id": "PMP-2026-0101",
            "species": SpeciesFactory().pk,
            "origin": "born_here",
            "habitat": habitat.pk,
            "sex": "unknown",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "habitat": [f"{habitat.name} no tiene espacio (capacidad: 1)."]
    }
    assert Animal.objects.count() == 1
    assert AuditEvent.objects.filter(action="wildlife.animal.registered").count() == 0


def test_a_stored_animal_changes_only_what_describes_it_in_the_back_office(client):
    curator = staff_member(Role.CURATOR)
    animal = AnimalFactory(house_name="Nemo", sex="unknown")
    other_habitat = HabitatFactory()
    client.force_login(curator)
    page = f"/admin/wildlife/animal/{animal.pk}/change/"
    form = client.get(page).context["adminform"].form
    assert list(form.fields) == [
        "house_name",
        "transponder_id",
        "sex",
        "hatch_date",
        "hatch_date_estimated",
        "is_public",
    ]
    response = client.post(
        page,
        {
            "house_name": "Dory",
            "transponder_id": "",
            "sex": "female",
            "hatch_date": "",
            "is_public": "on",
            "institutional_id": "HACK-1",
            "current_habitat": other_habitat.pk,
            "status": "deceased",
            "locations-TOTAL_FORMS": "0",
            "locations-INITIAL_FORMS": "0",
            "weights-TOTAL_FORMS": "0",
            "weights-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    stored = Animal.objects.get()
    assert (
        stored.house_name,
        stored.sex,
        stored.institutional_id,
        stored.current_habitat,
        stored.status,
    ) == ("Dory", "female", animal.institutional_id, animal.current_habitat, "in_collection")


@pytest.mark.parametrize("role", [Role.CURATOR, Role.VETERINARIAN])
def test_a_weight_is_recorded_by_whoever_is_signed_in(client, role):
    """The form has no "recorded by": a curator once saved a weight recorded by a visitor."""
    member = staff_member(role)
    visitor, animal = UserFactory(), AnimalFactory()
    client.force_login(member)
    assert (
        "recorded_by"
        not in client.get("/admin/wildlife/weight/add/").context["adminform"].form.fields
    )
    response = client.post(
        "/admin/wildlife/weight/add/",
        {
            "animal": animal.pk,
            "weight_kg": "12.500",
            "weighed_at_0": "2026-03-02",
            "weighed_at_1": "08:00:00",
            "notes": "En ayunas",
            "recorded_by": visitor.pk,
        },
    )
    assert response.status_code == 302
    weight = Weight.objects.get()
    assert (weight.animal, weight.weight_kg, weight.recorded_by, weight.notes) == (
        animal,
        Decimal("12.500"),
        member,
        "En ayunas",
    )
    page = client.get(f"/admin/wildlife/weight/{weight.pk}/change/")
    assert page.context["has_change_permission"] is False


def test_a_medical_record_is_written_by_the_signed_in_veterinarian(client):
    veterinarian, other_vet = staff_member(Role.VETERINARIAN), staff_member(Role.VETERINARIAN)
    animal = AnimalFactory()
    client.force_login(veterinarian)
    fields = client.get("/admin/wildlife/medicalrecord/add/").context["adminform"].form.fields
    assert "veterinarian" not in fields
    response = client.post(
        "/admin/wildlife/medicalrecord/add/",
        {
            "animal": animal.pk,
            "kind": "exam",
            "performed_on": "2026-03-02",
            "summary": "Revisión anual",
            "details": "",
            "medication": "",
            "veterinarian": other_vet.pk,
        },
    )
    assert response.status_code == 302
    record = MedicalRecord.objects.get()
    assert (record.animal, record.kind, record.summary, record.veterinarian) == (
        animal,
        "exam",
        "Revisión anual",
        veterinarian,
    )
    client.force_login(other_vet)
    response = client.post(
        f"/admin/wildlife/medicalrecord/{record.pk}/change/",
        {
            "kind": "exam",
            "performed_on": "2026-03-02",
            "summary": "Revisión anual completa",
            "details": "",
            "medication": "",
            "veterinarian": other_vet.pk,
            "animal": AnimalFactory().pk,
        },
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.animal, record.summary, record.veterinarian) == (
        animal,
        "Revisión anual completa",
        veterinarian,
    )
