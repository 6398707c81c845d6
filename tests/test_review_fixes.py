"""Regression tests for the findings of the code review of 2026-11-26 (each failed before)."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.business.infrastructure import services as infrastructure
from apps.business.infrastructure.models import WaterAlert
from apps.support.audit import services as audit
from apps.support.audit.chain import HASHED_FIELDS, entry_hash
from apps.support.audit.models import AuditChainHead, AuditEvent
from apps.support.audit.selectors import audit_chain_first_break
from apps.support.security.roles import Role
from tests.audit.tampering import tamper
from tests.factories import AnimalFactory, HabitatFactory, SectionFactory, SpeciesFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("address", ["::ffff:10.0.0.1", "fe80::1%eth0", "2001:db8::1"])
def test_entries_from_ipv6_clients_verify(api_client, user, address):
    client = client_for(user)
    client.patch("/api/v1/auth/me/", {"first_name": "Ipv6"}, format="json", REMOTE_ADDR=address)
    event = AuditEvent.objects.get(action="security.user.updated", target_id=str(user.pk))
    assert event.ip_address == {
        "::ffff:10.0.0.1": "::ffff:10.0.0.1",
        "fe80::1%eth0": "fe80::1",
    }.get(address, address)
    assert audit_chain_first_break() == (None, "", AuditEvent.objects.count())


def test_text_typed_as_email_is_not_kept_unless_it_is_an_account(api_client):
    api_client.post(
        "/api/v1/auth/token/", {"email": "My Secret Passw0rd!", "password": "x"}, format="json"
    )
    event = AuditEvent.objects.get(action="security.login.failed")
    assert event.metadata == {"email": None}
    assert "passw0rd" not in str(AuditEvent.objects.values_list("metadata", "changes")).lower()


def test_rewritten_newest_entry_is_caught_by_the_chain_head():
    audit.record(action="test.one")
    last = audit.record(action="test.two", metadata={"amount": "10.00"})
    fields = {name: getattr(last, name) for name in HASHED_FIELDS} | {
        "metadata": {"amount": "0.00"}
    }
    import json

    tamper(
        "UPDATE audit_auditevent SET metadata = %s, hash = %s WHERE id = %s",
        [json.dumps({"amount": "0.00"}), entry_hash(fields), last.pk],
    )
    broken, reason, checked = audit_chain_first_break()
    assert (broken, checked) == (None, 2)
    assert reason == "the newest entry does not match the chain head's hash (altered)"


def test_entries_written_after_the_walk_began_are_not_a_false_alarm(monkeypatch):
    audit.record(action="test.one")
    original = AuditChainHead.objects.get

    def head_then_new_entry(*args, **kwargs):
        head = original(*args, **kwargs)
        audit.record(action="test.during_the_walk")
        return head

    monkeypatch.setattr(AuditChainHead.objects, "get", head_then_new_entry)
    assert audit_chain_first_break() == (None, "", 1)


def test_release_with_a_long_place_and_notes(api_client):
    curator = staff_member(Role.CURATOR)
    animal = AnimalFactory(origin="rescued")
    response = client_for(curator).post(
        f"/api/v1/wildlife/animals/{animal.pk}/release/",
        {"released_on": "2026-11-24", "place": "P" * 255, "notes": "N" * 2000},
        format="json",
    )
    assert response.status_code == 200
    assert animal.locations.get(habitat=None).reason.endswith("N" * 2000)


def test_animals_of_back_of_house_sections_are_not_public(api_client):
    hidden = SectionFactory(is_public=False)
    AnimalFactory(current_habitat=HabitatFactory(section=hidden, is_public=True))
    assert api_client.get("/api/v1/wildlife/animals/").json()["count"] == 0


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


@pytest.mark.parametrize("value", ["1e30", "99999999999999999999999", "1.5"])
def test_huge_or_odd_ids_in_filters_are_400(api_client, value):
    for name in ("habitat", "section"):
        response = api_client.get("/api/v1/wildlife/animals/", {name: value})
        assert response.status_code == 400, (name, value)
        assert response.json()["errors"][0]["field"] == name


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


@pytest.mark.urls("tests.api.urls")
def test_a_lost_uniqueness_race_is_409_not_500(monkeypatch, administrator):
    """The check passes (another request has not committed yet), the database says no."""
    from django.contrib.auth.models import Group
    from django.db.models import QuerySet

    Group.objects.create(name="Aquarists")
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    response = client_for(administrator).post(
        "/api/v1/groups/", {"name": "Aquarists"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    assert Group.objects.filter(name="Aquarists").count() == 1


def test_visitors_cannot_filter_on_hidden_fields_or_probe_hidden_species(api_client):
    public_species = SpeciesFactory()
    hidden_species = SpeciesFactory(is_public=False)
    AnimalFactory(species=public_species, origin="confiscated")
    AnimalFactory(species=public_species, origin="born_here")
    everything = api_client.get("/api/v1/wildlife/animals/").json()["count"]
    assert (
        api_client.get("/api/v1/wildlife/animals/", {"origin": "confiscated"}).json()["count"]
        == everything
    )
    hidden = api_client.get("/api/v1/wildlife/animals/", {"species": hidden_species.pk})
    missing = api_client.get("/api/v1/wildlife/animals/", {"species": 999999})
    assert (hidden.status_code, missing.status_code) == (400, 400)
    assert hidden.json()["errors"][0]["code"] == missing.json()["errors"][0]["code"]


def test_verify_command_reports_the_head_mismatch():
    audit.record(action="test.x")
    AuditChainHead.objects.filter(pk=1).update(last_hash="f" * 64)
    with pytest.raises(Exception, match="newest entry does not match"):
        call_command("audit_verify")
