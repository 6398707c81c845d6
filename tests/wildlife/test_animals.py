"""Animals: the rescue story from arrival to release, privacy, capacity, census."""

import pytest

from apps.business.wildlife.models import Animal, AnimalLocation, MedicalRecord
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import AnimalFactory, HabitatFactory, SpeciesFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

ANIMALS = "/api/v1/wildlife/animals/"


@pytest.fixture
def curator():
    return staff_member(Role.CURATOR)


@pytest.fixture
def vet():
    return staff_member(Role.VETERINARIAN)


def test_rescued_turtle_from_arrival_to_release(curator, vet):
    turtle = SpeciesFactory(common_name_es="Tortuga lora", scientific_name="Lepidochelys olivacea")
    rescue_unit = HabitatFactory(
        name="Rehabilitación 1", kind="rehabilitation", capacity=2, is_public=False
    )
    quarantine = HabitatFactory(name="Cuarentena", kind="quarantine", capacity=2, is_public=False)
    curators, vets = client_for(curator), client_for(vet)

    registered = curators.post(
        ANIMALS,
        {
            "institutional_id": "PMP-2026-0012",
            "house_name": "Marea",
            "transponder_id": "985141000123456",
            "species": turtle.pk,
            "sex": "female",
            "origin": "rescued",
            "habitat": quarantine.pk,
            "arrived_at": "2026-11-01T09:00:00-06:00",
            "reason": "Rescued entangled in a net at Ostional",
        },
        format="json",
    )
    assert registered.status_code == 201, registered.json()
    animal_id = registered.json()["id"]
    assert (registered.json()["status"], registered.json()["current_habitat"]["id"]) == (
        "in_collection",
        quarantine.pk,
    )

    moved = curators.post(
        f"{ANIMALS}{animal_id}/move/",
        {"habitat": rescue_unit.pk, "reason": "Start of rehabilitation"},
        format="json",
    )
    assert moved.status_code == 200
    assert (moved.json()["status"], moved.json()["current_habitat"]["id"]) == (
        "in_rehabilitation",
        rescue_unit.pk,
    )

    for kilos in ("31.500", "33.250"):
        assert (
            curators.post(
                f"{ANIMALS}{animal_id}/weights/", {"weight_kg": kilos}, format="json"
            ).status_code
            == 201
        )
    weights = curators.get(f"{ANIMALS}{animal_id}/weights/").json()
    assert weights["count"] == 2
    assert sorted(w["weight_kg"] for w in weights["results"]) == ["31.500", "33.250"]

    treated = vets.post(
        "/api/v1/wildlife/medical-records/",
        {
            "animal": animal_id,
            "kind": "treatment",
            "performed_on": "2026-11-03",
            "summary": "Flipper wound cleaned",
            "medication": "Enrofloxacin 5 mg/kg",
        },
        format="json",
    )
    assert treated.status_code == 201
    assert treated.json()["veterinarian"] == vet.email

    released = curators.post(
        f"{ANIMALS}{animal_id}/release/",
        {"released_on": "2026-11-24", "place": "Playa Ostional, Guanacaste"},
        format="json",
    )
    assert released.status_code == 200
    body = released.json()
    assert (
        body["status"],
        body["status_date"],
        body["current_habitat"],
        body["release_place"],
    ) == (
        "released",
        "2026-11-24",
        None,
        "Playa Ostional, Guanacaste",
    )
    history = curators.get(f"{ANIMALS}{animal_id}/locations/").json()["results"]
    assert [(h["habitat"]["id"] if h["habitat"] else None) for h in history] == [
        None,
        rescue_unit.pk,
        quarantine.pk,
    ]
    actions = list(
        AuditEvent.objects.filter(target_type="wildlife.animal", target_id=str(animal_id))
        .exclude(action__in=["wildlife.animal.created", "wildlife.animal.updated"])
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [
        "wildlife.animal.registered",
        "wildlife.animal.moved",
        "wildlife.animal.released",
    ]
    # The clinical content stays out of the audit trail.
    medical = AuditEvent.objects.get(action="wildlife.medicalrecord.created")
    assert "medication" not in medical.changes
    assert "Enrofloxacin" not in str(AuditEvent.objects.values_list("changes", "metadata"))


def test_public_sees_public_fields_of_public_animals(api_client):
    shown = AnimalFactory(
        transponder_id="985141000999999", current_habitat=HabitatFactory(is_public=True)
    )
    AnimalFactory(current_habitat=HabitatFactory(is_public=False, name="Back tank"))
    AnimalFactory(is_public=False)
    body = api_client.get(ANIMALS).json()
    assert [a["id"] for a in body["results"]] == [shown.pk]
    assert set(body["results"][0]) == {
        "id",
        "institutional_id",
        "house_name",
        "species",
        "sex",
        "hatch_date",
        "status",
        "current_habitat",
    }
    assert "985141000999999" not in str(api_client.get(f"{ANIMALS}{shown.pk}/").json())


@pytest.mark.parametrize("role", [None, "visitor", Role.CURATOR, Role.AQUARIST, Role.AUDITOR])
def test_medical_records_only_for_veterinarians(role, user):
    animal = AnimalFactory()
    MedicalRecord.objects.create(
        animal=animal,
        kind="exam",
        performed_on="2026-11-01",
        summary="Check-up",
        veterinarian=staff_member(Role.VETERINARIAN),
    )
    caller = None if role is None else user if role == "visitor" else staff_member(role)
    response = client_for(caller).get("/api/v1/wildlife/medical-records/")
    assert response.status_code == (401 if caller is None else 403)
    created = client_for(caller).post(
        "/api/v1/wildlife/medical-records/",
        {"animal": animal.pk, "kind": "exam", "performed_on": "2026-11-02", "summary": "x"},
        format="json",
    )
    assert created.status_code == (401 if caller is None else 403)
    assert MedicalRecord.objects.count() == 1


def test_a_move_never_exceeds_capacity(curator):
    pool = HabitatFactory(capacity=1)
    AnimalFactory(current_habitat=pool)
    newcomer = AnimalFactory()
    origin = newcomer.current_habitat_id
    response = client_for(curator).post(
        f"{ANIMALS}{newcomer.pk}/move/", {"habitat": pool.pk, "reason": "x"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "habitat_full")
    newcomer.refresh_from_db()
    assert newcomer.current_habitat_id == origin
    assert not AnimalLocation.objects.filter(animal=newcomer).exists()


def test_released_animals_cannot_be_moved_and_born_here_cannot_be_released(curator):
    born = AnimalFactory(origin="born_here")
    client = client_for(curator)
    refused = client.post(
        f"{ANIMALS}{born.pk}/release/", {"released_on": "2026-11-24", "place": "x"}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "animal_not_releasable")
    gone = AnimalFactory(status="deceased", current_habitat=None)
    moved = client.post(
        f"{ANIMALS}{gone.pk}/move/", {"habitat": HabitatFactory().pk, "reason": "x"}, format="json"
    )
    assert (moved.status_code, moved.json()["code"]) == (409, "animal_not_resident")


def test_deceased_leaves_the_habitat(curator):
    animal = AnimalFactory()
    response = client_for(curator).post(
        f"{ANIMALS}{animal.pk}/status/",
        {"status": "deceased", "status_date": "2026-11-20", "reason": "Old age"},
        format="json",
    )
    assert response.status_code == 200
    animal.refresh_from_db()
    assert (animal.status, animal.current_habitat_id) == ("deceased", None)


def test_update_cannot_change_status_or_habitat(curator):
    animal = AnimalFactory()
    response = client_for(curator).patch(
        f"{ANIMALS}{animal.pk}/", {"status": "released"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "status",
        "code": "unknown_field",
        "message": "Campo desconocido.",
    }
    renamed = client_for(curator).patch(
        f"{ANIMALS}{animal.pk}/", {"house_name": "Coral"}, format="json"
    )
    assert renamed.json()["house_name"] == "Coral"


def test_transponder_is_unique_when_set(curator):
    AnimalFactory(transponder_id="TAG-1")
    AnimalFactory(transponder_id="")
    second = AnimalFactory.build(transponder_id="")
    second.species.save()
    second.current_habitat.section.save()
    second.current_habitat.save()
    second.species_id, second.current_habitat_id = second.species.pk, second.current_habitat.pk
    second.save()  # two animals without a tag are fine
    response = client_for(curator).post(
        ANIMALS,
        {
            "institutional_id": "PMP-2026-9999",
            "transponder_id": "TAG-1",
            "species": second.species_id,
            "origin": "born_here",
            "habitat": second.current_habitat_id,
        },
        format="json",
    )
    assert response.status_code == 400
    assert Animal.objects.filter(transponder_id="TAG-1").count() == 1


def test_census_by_species_habitat_section_and_status(curator):
    tank = HabitatFactory(name="Tanque A")
    sharks = SpeciesFactory(common_name_es="Tiburón gata")
    AnimalFactory.create_batch(3, species=sharks, current_habitat=tank)
    AnimalFactory(species=sharks, status="released", current_habitat=None)
    client = client_for(curator)
    by_species = client.get("/api/v1/wildlife/census/", {"by": "species"}).json()
    assert (by_species["total"], by_species["results"]) == (
        4,
        [{"key": str(sharks.pk), "label": "Tiburón gata", "count": 4}],
    )
    by_habitat = client.get("/api/v1/wildlife/census/", {"by": "habitat"}).json()
    assert by_habitat["results"] == [{"key": str(tank.pk), "label": "Tanque A", "count": 3}]
    by_status = client.get("/api/v1/wildlife/census/", {"by": "status"}).json()
    assert by_status["results"] == [
        {"key": "in_collection", "label": "En colección", "count": 3},
        {"key": "released", "label": "Liberado", "count": 1},
    ]
    by_section = client.get("/api/v1/wildlife/census/", {"by": "section"}).json()
    assert [row["count"] for row in by_section["results"]] == [3]
    assert client.get("/api/v1/wildlife/census/", {"by": "colour"}).status_code == 400
    # Sent empty, as if not sent: by species.
    assert client.get("/api/v1/wildlife/census/", {"by": ""}).json() == by_species


def test_animal_filters_and_constant_queries(curator, django_assert_num_queries):
    tank = HabitatFactory()
    AnimalFactory.create_batch(55, current_habitat=tank)
    AnimalFactory(origin="rescued")
    client = client_for(curator)
    for size in (1, 50):
        with django_assert_num_queries(
            4
        ):  # caller with roles, the habitat filtered on, count, page
            body = client.get(ANIMALS, {"page_size": size, "habitat": tank.pk}).json()
        assert (body["count"], len(body["results"])) == (55, size)
    assert client.get(ANIMALS, {"origin": "rescued"}).json()["count"] == 1
    assert client.get(ANIMALS, {"section": tank.section_id}).json()["count"] == 55


def test_weights_and_locations_are_paginated_newest_first(curator):
    """Like every list: {count, next, previous, results}, `page` and `page_size`; weighings at
    the same instant keep one order across pages (the newest id first)."""
    animal = AnimalFactory()
    same_instant = "2026-11-20T08:00:00-06:00"
    client = client_for(curator)
    created = [
        client.post(
            f"{ANIMALS}{animal.pk}/weights/",
            {"weight_kg": f"{kilos}.000", "weighed_at": same_instant},
            format="json",
        ).json()["id"]
        for kilos in range(1, 6)
    ]
    client.post(
        f"{ANIMALS}{animal.pk}/weights/",
        {"weight_kg": "9.000", "weighed_at": "2026-11-21T08:00:00-06:00"},
        format="json",
    )
    first = client.get(f"{ANIMALS}{animal.pk}/weights/", {"page_size": 4}).json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert (first["count"], first["previous"]) == (6, None)
    assert "page=2" in first["next"]
    second = client.get(f"{ANIMALS}{animal.pk}/weights/", {"page_size": 4, "page": 2}).json()
    assert second["next"] is None
    ids = [row["id"] for row in first["results"] + second["results"]]
    assert ids[1:] == sorted(created, reverse=True)  # the later weighing first, then by id
    assert first["results"][0]["weight_kg"] == "9.000"
    assert client.get(f"{ANIMALS}{animal.pk}/weights/", {"page": 3}).status_code == 404

    for habitat in HabitatFactory.create_batch(3):
        moved = client.post(
            f"{ANIMALS}{animal.pk}/move/", {"habitat": habitat.pk, "reason": "Rotation"}
        )
        assert moved.status_code == 200, moved.json()
    locations = client.get(f"{ANIMALS}{animal.pk}/locations/", {"page_size": 2}).json()
    assert (locations["count"], len(locations["results"])) == (3, 2)
    assert locations["results"][0]["habitat"]["id"] == habitat.pk
    assert client.get(f"{ANIMALS}{animal.pk}/locations/", {"page_size": "0"}).status_code == 400
