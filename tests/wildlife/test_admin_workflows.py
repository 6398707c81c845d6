"""The animal's workflows in the back office (move, release, transfer or death): the same
services as the API, run by the signed-in member of staff, refused as the API refuses them,
and offered only to whom the API lets run them."""

import datetime

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.utils import timezone

from api import back_office
from apps.business.wildlife import services
from apps.business.wildlife.models import Animal, AnimalLocation, MedicalRecord, Weight
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import HabitatFactory, SpeciesFactory, UserFactory
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db

ROLES = [role.value for role in Role]


def registered(habitat, *, origin="born_here", actor=None, **fields):
    """An animal registered as the API registers it: in ``habitat``, with its first location."""
    return services.animal_register(
        actor=actor or staff_member(Role.CURATOR),
        habitat=habitat,
        arrived_at=datetime.datetime(2026, 3, 1, 9, 0, tzinfo=timezone.get_current_timezone()),
        reason="Llegada",
        data={
            "institutional_id": fields.pop("institutional_id", "PMP-2026-0001"),
            "species": SpeciesFactory(),
            "origin": origin,
            **fields,
        },
    )


def locations(animal):
    return list(
        AnimalLocation.objects.filter(animal=animal)
        .order_by("moved_at", "id")
        .values_list("habitat__name", "reason", "moved_by__email")
    )


def page(animal, workflow):
    return f"/admin/wildlife/animal/{animal.pk}/{workflow}/"


def test_a_curator_moves_an_animal_from_its_page_through_the_service(client):
    curator = staff_member(Role.CURATOR, email="curadora@parquemarino.test")
    lagoon, reef = HabitatFactory(name="Laguna"), HabitatFactory(name="Arrecife")
    animal = registered(lagoon, actor=curator)
    client.force_login(curator)
    change = client.get(f"/admin/wildlife/animal/{animal.pk}/change/")
    assert [name for name, _title in change.context["workflows"]] == ["move", "status"]
    assert page(animal, "move") in change.content.decode()
    assert client.get(page(animal, "move")).status_code == 200
    response = client.post(
        page(animal, "move"),
        {
            "habitat": reef.pk,
            "reason": "Cuarentena terminada",
            "moved_at_0": "2026-03-05",
            "moved_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/wildlife/animal/{animal.pk}/change/"
    animal.refresh_from_db()
    assert (animal.current_habitat, animal.status) == (reef, "in_collection")
    assert locations(animal) == [
        ("Laguna", "Llegada", "curadora@parquemarino.test"),
        ("Arrecife", "Cuarentena terminada", "curadora@parquemarino.test"),
    ]
    assert AnimalLocation.objects.get(habitat=reef).moved_at == datetime.datetime(
        2026, 3, 5, 10, 0, tzinfo=timezone.get_current_timezone()
    )
    event = AuditEvent.objects.get(action="wildlife.animal.moved")
    assert (event.target_id, event.actor_id, event.changes, event.metadata) == (
        str(animal.pk),
        curator.pk,
        {"current_habitat": [lagoon.pk, reef.pk]},
        {"reason": "Cuarentena terminada"},
    )


def test_a_move_into_a_full_habitat_is_refused_on_the_form_and_changes_nothing(client):
    curator = staff_member(Role.CURATOR)
    lagoon, full = HabitatFactory(name="Laguna"), HabitatFactory(name="Poza", capacity=1)
    registered(full, institutional_id="PMP-2026-0002")
    animal = registered(lagoon)
    client.force_login(curator)
    response = client.post(page(animal, "move"), {"habitat": full.pk, "reason": "Espacio"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"habitat": ["Poza no tiene espacio (capacidad: 1)."]}
    animal.refresh_from_db()
    assert animal.current_habitat == lagoon
    assert len(locations(animal)) == 1
    assert AuditEvent.objects.filter(action="wildlife.animal.moved").count() == 0


def test_a_move_to_where_it_already_is_is_refused_on_the_form(client):
    lagoon = HabitatFactory(name="Laguna")
    animal = registered(lagoon)
    client.force_login(staff_member(Role.CURATOR))
    response = client.post(page(animal, "move"), {"habitat": lagoon.pk, "reason": "Nada"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"habitat": ["El animal ya está ahí."]}
    assert len(locations(animal)) == 1


@pytest.mark.parametrize(
    "role", [Role.VETERINARIAN, Role.AQUARIST, Role.EDUCATOR, Role.CONTENT_EDITOR, Role.FINANCE]
)
def test_a_role_the_api_refuses_gets_403_from_every_workflow_and_nothing_changes(client, role):
    lagoon, reef = HabitatFactory(name="Laguna"), HabitatFactory(name="Arrecife")
    animal = registered(lagoon, origin="rescued")
    client.force_login(staff_member(role))
    audited = AuditEvent.objects.count()
    posts = {
        "move": {"habitat": reef.pk, "reason": "Intento"},
        "release": {"released_on": "2026-03-05", "place": "Playa Ostional"},
        "status": {"status": "deceased", "status_date": "2026-03-05", "reason": "Intento"},
    }
    for workflow, data in posts.items():
        assert client.get(page(animal, workflow)).status_code == 403, workflow
        assert client.post(page(animal, workflow), data).status_code == 403, workflow
    animal.refresh_from_db()
    assert (animal.current_habitat, animal.status) == (lagoon, "in_collection")
    assert len(locations(animal)) == 1
    assert AuditEvent.objects.count() == audited


def test_the_workflows_are_offered_to_exactly_the_roles_the_api_lets_run_them(rf):
    """The back office's answer for each role is the API's own for POST .../move/, release/
    and status/ (the permission matrix)."""
    model_admin = admin.site._registry[Animal]
    resource = back_office.resources()[Animal]
    offered, allowed = {}, {}
    for role in ROLES:
        user = staff_member(role)
        request = RequestFactory().get("/admin/wildlife/animal/")
        request.user = user
        offered[role] = model_admin.has_move_permission(request)
        allowed[role] = [
            resource.allows(user, "POST", action) for action in ("move", "release", "change_status")
        ]
    assert {role for role, yes in offered.items() if yes} == {Role.ADMINISTRATOR, Role.CURATOR}
    assert allowed == {role: [offered[role]] * 3 for role in ROLES}


def test_the_change_page_of_a_veterinarian_offers_no_workflow(client):
    animal = registered(HabitatFactory())
    client.force_login(staff_member(Role.VETERINARIAN))
    response = client.get(f"/admin/wildlife/animal/{animal.pk}/change/")
    assert response.status_code == 200
    assert response.context["workflows"] == []
    assert page(animal, "move") not in response.content.decode()


def test_the_list_action_moves_the_chosen_animals_and_names_the_refused_ones(client):
    curator = staff_member(Role.CURATOR)
    lagoon, reef = HabitatFactory(name="Laguna"), HabitatFactory(name="Arrecife", capacity=1)
    first = registered(lagoon, institutional_id="PMP-2026-0001", house_name="Coral")
    second = registered(lagoon, institutional_id="PMP-2026-0002", house_name="Perla")
    client.force_login(curator)
    response = client.post(
        "/admin/wildlife/animal/",
        {
            "action": "move_animals",
            "_selected_action": [first.pk, second.pk],
            "habitat": reef.pk,
            "reason": "Remodelación",
        },
        follow=True,
    )
    assert [str(message) for message in response.context["messages"]] == [
        "1 animal trasladado a Arrecife.",
        f"No trasladado: {second}: Arrecife no tiene espacio (capacidad: 1).",
    ]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.current_habitat, second.current_habitat) == (reef, lagoon)
    assert len(locations(first)) == 2
    assert len(locations(second)) == 1
    assert AuditEvent.objects.filter(action="wildlife.animal.moved").count() == 1


def test_the_list_action_needs_a_habitat_and_a_reason_and_moves_nothing_without(client):
    lagoon, reef = HabitatFactory(name="Laguna"), HabitatFactory(name="Arrecife")
    animal = registered(lagoon)
    client.force_login(staff_member(Role.CURATOR))
    response = client.post(
        "/admin/wildlife/animal/",
        {"action": "move_animals", "_selected_action": [animal.pk], "habitat": reef.pk},
        follow=True,
    )
    assert [str(message) for message in response.context["messages"]] == [
        "Elija el hábitat de destino e indique el motivo."
    ]
    animal.refresh_from_db()
    assert animal.current_habitat == lagoon


@pytest.mark.parametrize("role", [Role.VETERINARIAN, Role.AQUARIST])
def test_the_list_action_is_not_offered_to_roles_that_cannot_move(client, role):
    lagoon, reef = HabitatFactory(name="Laguna"), HabitatFactory(name="Arrecife")
    animal = registered(lagoon)
    client.force_login(staff_member(role))
    listing = client.get("/admin/wildlife/animal/")
    assert listing.status_code == 200
    assert "move_animals" not in listing.content.decode()
    assert listing.context["action_form"] is None  # no action of theirs at all
    response = client.post(
        "/admin/wildlife/animal/",
        {
            "action": "move_animals",
            "_selected_action": [animal.pk],
            "habitat": reef.pk,
            "reason": "Intento",
        },
    )
    assert response.status_code == 200  # the list shown again, nothing done
    animal.refresh_from_db()
    assert animal.current_habitat == lagoon
    assert len(locations(animal)) == 1


def test_a_curator_releases_a_rescued_animal(client):
    curator = staff_member(Role.CURATOR)
    unit = HabitatFactory(name="Rehabilitación", kind="rehabilitation")
    animal = registered(unit, origin="rescued")
    client.force_login(curator)
    change = client.get(f"/admin/wildlife/animal/{animal.pk}/change/")
    assert [name for name, _title in change.context["workflows"]] == ["move", "release", "status"]
    response = client.post(
        page(animal, "release"),
        {"released_on": "2026-03-10", "place": "Playa Ostional", "notes": ""},
    )
    assert response.status_code == 302
    animal.refresh_from_db()
    assert (animal.status, animal.status_date, animal.current_habitat, animal.release_place) == (
        "released",
        datetime.date(2026, 3, 10),
        None,
        "Playa Ostional",
    )
    assert locations(animal)[-1] == (None, "Liberado en Playa Ostional", curator.email)
    event = AuditEvent.objects.get(action="wildlife.animal.released")
    assert (event.actor_id, event.changes) == (curator.pk, {"current_habitat": [unit.pk, None]})
    # Released: no workflow applies any more, and the service refuses a second release.
    assert client.get(f"/admin/wildlife/animal/{animal.pk}/change/").context["workflows"] == []
    again = client.post(page(animal, "release"), {"released_on": "2026-03-11", "place": "Otra"})
    assert again.status_code == 200
    assert again.context["form"].non_field_errors() == [
        "Solo se pueden liberar animales rescatados o decomisados que sigan bajo nuestro cuidado."
    ]


def test_a_curator_records_a_death(client):
    curator = staff_member(Role.CURATOR)
    lagoon = HabitatFactory(name="Laguna")
    animal = registered(lagoon)
    client.force_login(curator)
    response = client.post(
        page(animal, "status"),
        {"status": "deceased", "status_date": "2026-03-12", "reason": "Edad avanzada"},
    )
    assert response.status_code == 302
    animal.refresh_from_db()
    assert (animal.status, animal.status_date, animal.current_habitat) == (
        "deceased",
        datetime.date(2026, 3, 12),
        None,
    )
    assert locations(animal)[-1] == (None, "Edad avanzada", curator.email)
    assert (
        AuditEvent.objects.filter(action="wildlife.animal.deceased", actor_id=curator.pk).count()
        == 1
    )


def test_the_animal_page_shows_its_moves_weights_and_to_a_vet_its_medical_records(client):
    veterinarian = staff_member(Role.VETERINARIAN)
    animal = registered(HabitatFactory(name="Laguna"))
    services.weight_record(actor=veterinarian, animal=animal, weight_kg="12.500")
    services.medical_record_create(
        actor=veterinarian,
        animal=animal,
        data={"kind": "exam", "performed_on": datetime.date(2026, 3, 2), "summary": "Revisión"},
    )
    inlines = {}
    for role in (Role.VETERINARIAN, Role.CURATOR, Role.AQUARIST):
        client.force_login(staff_member(role) if role != Role.VETERINARIAN else veterinarian)
        response = client.get(f"/admin/wildlife/animal/{animal.pk}/change/")
        assert response.status_code == 200
        inlines[role] = {
            formset.opts.model._meta.model_name: len(formset.forms)
            for formset in response.context["inline_admin_formsets"]
        }
        if role != Role.VETERINARIAN:
            assert "Revisión" not in response.content.decode()
    assert inlines == {
        Role.VETERINARIAN: {"animallocation": 1, "weight": 1, "medicalrecord": 1},
        Role.CURATOR: {"animallocation": 1, "weight": 1},
        # The back office keeps the model permissions of aquarists for weights (none).
        Role.AQUARIST: {"animallocation": 1},
    }
    assert Weight.objects.count() == 1
    assert MedicalRecord.objects.count() == 1


def test_animals_of_one_habitat_and_by_species_name(client):
    lagoon, reef = HabitatFactory(name="Laguna"), HabitatFactory(name="Arrecife")
    in_lagoon = registered(lagoon, institutional_id="PMP-2026-0001")
    registered(reef, institutional_id="PMP-2026-0002")
    client.force_login(staff_member(Role.CURATOR))
    by_habitat = client.get("/admin/wildlife/animal/", {"current_habitat__id__exact": lagoon.pk})
    assert list(by_habitat.context["cl"].result_list) == [in_lagoon]
    by_section = client.get(
        "/admin/wildlife/animal/", {"current_habitat__section__id__exact": lagoon.section_id}
    )
    assert list(by_section.context["cl"].result_list) == [in_lagoon]
    in_lagoon.species.common_name_en = "Hawksbill turtle"
    in_lagoon.species.save()
    by_name = client.get("/admin/wildlife/animal/", {"q": "hawksbill"})
    assert list(by_name.context["cl"].result_list) == [in_lagoon]


def test_a_visitor_account_is_not_let_into_the_workflows(client):
    animal = registered(HabitatFactory())
    client.force_login(UserFactory())
    response = client.get(page(animal, "move"))
    assert response.status_code == 302  # to the sign-in page
    assert response["Location"].startswith("/admin/login/")
