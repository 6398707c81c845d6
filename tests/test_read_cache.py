"""Public reads kept in the cache: a copy per path, language and roles, dropped by every write
that changes what it shows, bounded by the clock where time alone changes it, and answered
with 304 to a client that has it (docs/adr/0043). Across processes: tests/test_instances.py."""

from datetime import date, time, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from apps.business.donations.models import Campaign
from apps.business.wildlife.models import Species
from apps.support.common import readcache
from apps.support.security.roles import Role
from tests.donations.conftest import donation_line, give, make_campaign
from tests.factories import (
    AnimalFactory,
    HabitatFactory,
    SpeciesFactory,
    TicketTypeFactory,
    TimeSlotFactory,
    UserFactory,
)
from tests.helpers import client_for, staff_member
from tests.tickets.test_catalogue import hold

pytestmark = pytest.mark.django_db

SPECIES = "/api/v1/wildlife/species/"
HABITATS = "/api/v1/infrastructure/habitats/"
SLOTS = "/api/v1/tickets/slots/"
CAMPAIGNS = "/api/v1/payments/campaigns/"


def names(response) -> list[str]:
    return [row["common_name_en"] for row in response.json()["results"]]


def test_a_read_is_kept_and_a_write_through_the_api_drops_it():
    SpeciesFactory(common_name_en="Manatee")
    anonymous = client_for(None)

    first = anonymous.get(SPECIES)
    second = anonymous.get(SPECIES)

    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert second["Content-Type"] == "application/json"
    species = Species.objects.get()
    curator = client_for(staff_member(Role.CURATOR))
    changed = curator.patch(
        f"{SPECIES}{species.pk}/", {"common_name_en": "West Indian manatee"}, format="json"
    )
    assert changed.status_code == 200, changed.json()

    after = anonymous.get(SPECIES)

    assert (after["X-Cache"], names(after)) == ("MISS", ["West Indian manatee"])
    assert after["ETag"] != first["ETag"]


def test_a_kept_copy_answers_304_to_its_etag_and_200_once_changed():
    species = Species.objects.get(pk=SpeciesFactory(common_name_en="Manatee").pk)
    anonymous = client_for(None)
    tag = anonymous.get(SPECIES)["ETag"]

    again = anonymous.get(SPECIES, HTTP_IF_NONE_MATCH=tag)

    assert (again.status_code, again["ETag"], again.content) == (304, tag, b"")
    assert again["X-Cache"] == "HIT"
    species.common_name_en = "Dugong"
    species.save()  # the back office, a script: any save through the ORM
    changed = anonymous.get(SPECIES, HTTP_IF_NONE_MATCH=tag)
    assert (changed.status_code, names(changed)) == (200, ["Dugong"])


def test_copies_are_kept_apart_by_roles_language_and_query():
    SpeciesFactory(common_name_es="Manatí", common_name_en="Manatee", is_public=True)
    SpeciesFactory(common_name_es="Tiburón", common_name_en="Shark", is_public=False)
    anonymous = client_for(None)
    curator = client_for(staff_member(Role.CURATOR))

    assert names(anonymous.get(SPECIES)) == ["Manatee"]
    assert names(curator.get(SPECIES)) == ["Manatee", "Shark"]
    assert names(anonymous.get(SPECIES)) == ["Manatee"]  # not the curator's copy
    assert names(anonymous.get(SPECIES, {"search": "shark"})) == []
    spanish = anonymous.get(SPECIES, HTTP_ACCEPT_LANGUAGE="es")  # the park's default
    english = anonymous.get(SPECIES, HTTP_ACCEPT_LANGUAGE="en")
    assert (spanish["Content-Language"], spanish["X-Cache"]) == ("es", "HIT")
    assert (english["Content-Language"], english["X-Cache"]) == ("en", "MISS")
    assert anonymous.get(SPECIES, HTTP_ACCEPT_LANGUAGE="en")["X-Cache"] == "HIT"


def test_errors_are_not_kept():
    anonymous = client_for(None)

    bad = anonymous.get(SLOTS, {"date": "not-a-date"})
    assert bad.status_code == 400
    assert "X-Cache" not in bad
    assert anonymous.get(SLOTS, {"date": "not-a-date"}).status_code == 400


def test_a_habitat_shows_its_new_occupancy_after_an_animal_arrives():
    habitat = HabitatFactory(is_public=True, section__is_public=True)
    anonymous = client_for(None)
    before = anonymous.get(f"{HABITATS}{habitat.pk}/")
    assert (before["X-Cache"], before.json()["occupancy"]) == ("MISS", 0)

    AnimalFactory(current_habitat=habitat, status="in_collection")

    after = anonymous.get(f"{HABITATS}{habitat.pk}/")
    assert (after["X-Cache"], after.json()["occupancy"]) == ("MISS", 1)


def test_availability_changes_with_a_hold_and_when_the_hold_runs_out(
    monkeypatch, django_assert_num_queries
):
    slot = TimeSlotFactory(capacity=10)
    adult = TicketTypeFactory()
    anonymous = client_for(None)
    day = {"date": slot.date.isoformat()}
    anonymous.get(SLOTS, day)  # content types and the like, read once per process
    readcache.changed(readcache.SLOTS)

    with django_assert_num_queries(2):  # the page with its holds and count, when they change
        missed = anonymous.get(SLOTS, day)
    with django_assert_num_queries(0):
        kept = anonymous.get(SLOTS, day)
    assert (missed["X-Cache"], kept["X-Cache"]) == ("MISS", "HIT")
    assert [row["remaining"] for row in kept.json()["results"]] == [10]

    order = hold(slot, adult, 3)

    held = anonymous.get(SLOTS, day)
    assert (held["X-Cache"], held.json()["results"][0]["held"]) == ("MISS", 3)
    assert anonymous.get(SLOTS, day)["X-Cache"] == "HIT"

    # Nobody writes when a hold runs out: the copy was kept only until then.
    later = order.expires_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    expired = anonymous.get(SLOTS, day)
    assert (expired["X-Cache"], expired.json()["results"][0]["remaining"]) == ("MISS", 10)


def test_a_paid_gift_shows_on_its_campaign_at_once(django_capture_on_commit_callbacks):
    campaign = make_campaign()
    anonymous = client_for(None)
    assert anonymous.get(f"{CAMPAIGNS}{campaign.pk}/").json()["raised"] == "0.00"
    assert anonymous.get(f"{CAMPAIGNS}{campaign.pk}/")["X-Cache"] == "HIT"

    with django_capture_on_commit_callbacks(execute=True):
        give(client_for(UserFactory()), donation_line("5000.00", campaign))

    after = anonymous.get(f"{CAMPAIGNS}{campaign.pk}/")
    assert (after["X-Cache"], after.json()["raised"], after.json()["donor_count"]) == (
        "MISS",
        "5000.00",
        1,
    )


def test_a_campaign_that_starts_or_ends_shows_so_without_a_write(monkeypatch):
    now = timezone.now()
    open_now = make_campaign(ends_at=now + timedelta(hours=2))
    make_campaign(slug="arrecife", starts_at=now + timedelta(hours=1), ends_at=None)
    anonymous = client_for(None)

    listed = anonymous.get(CAMPAIGNS)
    assert [row["slug"] for row in listed.json()["results"]] == ["tortugas"]
    assert anonymous.get(CAMPAIGNS)["X-Cache"] == "HIT"

    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(hours=1, seconds=1))
    started = anonymous.get(CAMPAIGNS)
    assert started["X-Cache"] == "MISS"
    assert [row["slug"] for row in started.json()["results"]] == ["arrecife", "tortugas"]

    monkeypatch.setattr(timezone, "now", lambda: now + timedelta(hours=2, seconds=1))
    ended = anonymous.get(f"{CAMPAIGNS}{open_now.pk}/")
    assert (ended.json()["is_open"], ended.json()["days_left"]) == (False, 0)
    assert Campaign.objects.get(pk=open_now.pk).raised == Decimal("0.00")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_versions_change_when_the_write_commits_and_not_when_it_rolls_back():
    SpeciesFactory()
    (before,) = readcache.versions([readcache.CATALOGUE])

    def written_then_rolled_back() -> None:
        with transaction.atomic():
            SpeciesFactory()
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        written_then_rolled_back()
    assert readcache.versions([readcache.CATALOGUE]) == (before,)

    with transaction.atomic():
        SpeciesFactory()
        # Not yet: a read in another process now would still see the old rows.
        assert readcache.versions([readcache.CATALOGUE]) == (before,)
    (after,) = readcache.versions([readcache.CATALOGUE])
    assert after != before


def test_an_unknown_namespace_is_refused():
    with pytest.raises(ValueError, match="catalog"):
        readcache.changed("catalog")


def test_nothing_is_kept_when_turned_off(settings):
    settings.READ_CACHE_SECONDS = 0
    SpeciesFactory()
    anonymous = client_for(None)
    assert "X-Cache" not in anonymous.get(SPECIES)
    assert "X-Cache" not in anonymous.get(SPECIES)


def test_restoring_a_backup_drops_every_copy(monkeypatch, tmp_path):
    from apps.support.common import backup

    before = readcache.versions(readcache.NAMESPACES)
    # The restore's own work is tested by the drill (tests/test_backup_restore.py); here,
    # what it does to the cache once the rows are back.
    nothing = backup.Manifest({"files": {}, "tables": {}})
    monkeypatch.setattr(backup, "_read_manifest", lambda source: nothing)
    monkeypatch.setattr(backup, "_restore_database", lambda source, manifest: None)
    monkeypatch.setattr(backup, "_restore_files", lambda source, manifest: {})

    backup.backup_restore(tmp_path)

    after = readcache.versions(readcache.NAMESPACES)
    assert before is not None
    assert after is not None
    assert [old != new for old, new in zip(before, after, strict=True)] == [True, True, True]


def test_cancelling_a_held_order_gives_its_seats_back_at_once():
    from apps.business.payments.services import order_cancel

    slot = TimeSlotFactory(capacity=10)
    buyer = UserFactory()
    order = hold(slot, TicketTypeFactory(), 4, buyer)
    anonymous = client_for(None)
    day = {"date": slot.date.isoformat()}
    assert anonymous.get(SLOTS, day).json()["results"][0]["remaining"] == 6
    assert anonymous.get(SLOTS, day)["X-Cache"] == "HIT"

    order_cancel(order=order, actor=buyer)

    after = anonymous.get(SLOTS, day)
    assert (after["X-Cache"], after.json()["results"][0]["remaining"]) == ("MISS", 10)


def test_generated_slots_show_at_once():
    from apps.business.tickets.models import OpeningSchedule

    OpeningSchedule.objects.create(
        name="Temporada 2031",
        valid_from=date(2031, 1, 1),
        weekdays=[1],
        opens_at=time(9, 0),
        closes_at=time(10, 0),
        slot_minutes=30,
        capacity_per_slot=50,
    )
    anonymous = client_for(None)
    tuesday = {"date": "2031-03-04"}
    assert anonymous.get(SLOTS, tuesday).json()["results"] == []
    assert anonymous.get(SLOTS, tuesday)["X-Cache"] == "HIT"
    office = client_for(staff_member(Role.TICKET_OFFICE))

    made = office.post(f"{SLOTS}generate/", {"start": "2031-03-04", "days": 1}, format="json")

    assert made.status_code == 200, made.json()
    after = anonymous.get(SLOTS, tuesday)
    assert (after["X-Cache"], [s["capacity"] for s in after.json()["results"]]) == (
        "MISS",
        [50, 50],
    )
