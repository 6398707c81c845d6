"""What the public sees: exactly what is published at the time of the request, whatever the
scheduling job has or has not done; drafts and future revisions never leak."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.business.exhibitions import services
from apps.business.exhibitions.models import Exhibition
from apps.business.exhibitions.services import ScheduleRun
from apps.support.security.roles import Role
from tests.factories import SpeciesFactory, UserFactory
from tests.helpers import client_for, staff_member

from .conftest import EXHIBITIONS, make, time_passes

pytestmark = pytest.mark.django_db


def public_slugs(client=None, query=""):
    response = (client or APIClient()).get(f"{EXHIBITIONS}{query}")
    assert response.status_code == 200, response.json()
    return [item["slug"] for item in response.json()["results"]]


def public_title(slug, client=None):
    response = (client or APIClient()).get(f"{EXHIBITIONS}{slug}/")
    return response.json()["title"] if response.status_code == 200 else response.status_code


def test_a_draft_is_never_shown_to_the_public(editor):
    make(editor)

    assert public_slugs() == []
    assert APIClient().get(f"{EXHIBITIONS}arrecife/").status_code == 404
    # Signed in without an editor's role: the same.
    assert public_slugs(client_for(UserFactory())) == []
    assert public_title("arrecife", client_for(staff_member(Role.TICKET_OFFICE))) == 404


def test_edits_after_publication_stay_drafts_until_published(editor):
    exhibition = make(editor, publish=True)
    services.exhibition_update(
        actor=editor, exhibition=exhibition, data={"title_es": "Arrecife (borrador)"}
    )

    assert public_title("arrecife") == "Arrecife del Pacífico"
    listed = APIClient().get(EXHIBITIONS).json()["results"]
    assert [item["title"] for item in listed] == ["Arrecife del Pacífico"]

    services.exhibition_publish(actor=editor, exhibition=exhibition)

    assert public_title("arrecife") == "Arrecife (borrador)"


def test_a_scheduled_first_publication_shows_on_the_minute_without_the_job(editor):
    exhibition = make(editor, slug="medusas", title_es="Sala de medusas")
    services.exhibition_publish(
        actor=editor, exhibition=exhibition, at=timezone.now() + timedelta(hours=1)
    )
    assert public_slugs() == []
    assert public_title("medusas") == 404

    time_passes(exhibition)

    assert Exhibition.objects.get(pk=exhibition.pk).live is False  # the job has not run
    assert public_slugs() == ["medusas"]
    before_job = APIClient().get(f"{EXHIBITIONS}medusas/")
    assert before_job.json()["title"] == "Sala de medusas"

    assert services.publish_scheduled() == ScheduleRun(published=1)

    row = Exhibition.objects.get(pk=exhibition.pk)
    assert (row.live, row.revisions.filter(approved_go_live_at__isnull=False).count()) == (True, 0)
    after_job = APIClient().get(f"{EXHIBITIONS}medusas/")
    # The job changed the rows, not what anybody sees.
    assert after_job.content == before_job.content
    assert after_job["ETag"] == before_job["ETag"]
    assert services.publish_scheduled() == ScheduleRun()


def test_a_scheduled_revision_replaces_live_content_only_when_due(editor):
    exhibition = make(editor, publish=True)
    services.exhibition_update(
        actor=editor, exhibition=exhibition, data={"title_es": "Arrecife renovado"}
    )
    services.exhibition_publish(
        actor=editor, exhibition=exhibition, at=timezone.now() + timedelta(days=3)
    )
    # A later draft, after the scheduled one: never shown by the schedule.
    services.exhibition_update(
        actor=editor, exhibition=exhibition, data={"title_es": "Arrecife (idea futura)"}
    )

    assert public_title("arrecife") == "Arrecife del Pacífico"
    assert public_slugs() == ["arrecife"]

    time_passes(exhibition, by=timedelta(days=4))

    assert public_title("arrecife") == "Arrecife renovado"
    listed = APIClient().get(EXHIBITIONS).json()["results"]
    assert [item["title"] for item in listed] == ["Arrecife renovado"]
    services.publish_scheduled()
    assert public_title("arrecife") == "Arrecife renovado"
    assert Exhibition.objects.get(pk=exhibition.pk).title_es == "Arrecife renovado"


def test_a_scheduled_unpublication_hides_on_the_minute_without_the_job(editor):
    exhibition = make(editor, publish=True)
    services.exhibition_unpublish(
        actor=editor, exhibition=exhibition, at=timezone.now() + timedelta(hours=1)
    )
    assert public_slugs() == ["arrecife"]

    time_passes(exhibition)

    assert public_slugs() == []
    assert public_title("arrecife") == 404
    assert services.publish_scheduled() == ScheduleRun(unpublished=1)
    row = Exhibition.objects.get(pk=exhibition.pk)
    assert (row.live, row.expired) == (False, True)


def test_a_later_publication_keeps_the_scheduled_unpublication(editor):
    exhibition = make(editor, publish=True)
    ends = timezone.now() + timedelta(days=10)
    services.exhibition_unpublish(actor=editor, exhibition=exhibition, at=ends)
    services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "Nuevo"})
    services.exhibition_publish(actor=editor, exhibition=exhibition)

    assert Exhibition.objects.get(pk=exhibition.pk).expire_at == ends
    time_passes(exhibition, by=timedelta(days=11))
    assert public_slugs() == []


def test_schedule_both_ends_of_a_temporary_exhibition(editor):
    exhibition = make(editor, slug="medusas", kind="temporary")
    now = timezone.now()
    services.exhibition_publish(actor=editor, exhibition=exhibition, at=now + timedelta(days=1))
    services.exhibition_unpublish(actor=editor, exhibition=exhibition, at=now + timedelta(days=5))

    assert public_slugs() == []
    time_passes(exhibition, by=timedelta(days=2))
    assert public_slugs() == ["medusas"]
    services.publish_scheduled()
    assert public_slugs() == ["medusas"]
    time_passes(exhibition, by=timedelta(days=4))
    assert public_slugs() == []
    services.publish_scheduled()
    assert Exhibition.objects.get(pk=exhibition.pk).live is False


def test_unpublish_now_hides_and_drops_a_scheduled_publication(editor):
    exhibition = make(editor, publish=True)
    services.exhibition_publish(
        actor=editor, exhibition=exhibition, at=timezone.now() + timedelta(hours=1)
    )
    services.exhibition_unpublish(actor=editor, exhibition=exhibition)

    assert public_slugs() == []
    time_passes(exhibition)
    assert public_slugs() == []
    assert services.publish_scheduled() == ScheduleRun()


def test_editors_preview_the_latest_drafts_through_the_same_endpoints(editor, editor_client):
    exhibition = make(editor, publish=True)
    services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "Borrador"})
    make(editor, slug="medusas", title_es="Medusas")

    listed = editor_client.get(f"{EXHIBITIONS}?preview=true")
    assert listed.status_code == 200
    assert [
        (item["slug"], item["title"], item["status"]["live"]) for item in listed.json()["results"]
    ] == [
        ("arrecife", "Borrador", True),
        ("medusas", "Medusas", False),
    ]
    assert listed["Cache-Control"] == "private, no-store"
    item = editor_client.get(f"{EXHIBITIONS}arrecife/?preview=true").json()
    assert (item["title"], item["status"]["has_unpublished_changes"]) == ("Borrador", True)
    # Without preview an editor sees what the public sees.
    assert public_title("arrecife", editor_client) == "Arrecife del Pacífico"


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("visitor", 403), (Role.TICKET_OFFICE, 403), (Role.EDUCATOR, 403)],
)
def test_only_editors_may_preview(editor, who, status):
    make(editor)
    if who is None:
        client = APIClient()
    elif who == "visitor":
        client = client_for(UserFactory())
    else:
        client = client_for(staff_member(who))

    assert client.get(f"{EXHIBITIONS}?preview=true").status_code == status
    assert client.get(f"{EXHIBITIONS}arrecife/?preview=true").status_code == status


def test_language_from_the_query_or_accept_language_with_spanish_fallback(editor):
    make(editor, publish=True, slug="tortugas", title_en="", summary_en="")
    make(editor, publish=True)
    client = APIClient()

    english = client.get(f"{EXHIBITIONS}?lang=en")
    # No English title: the Spanish one.
    titles = {item["slug"]: item["title"] for item in english.json()["results"]}
    assert titles == {"arrecife": "Pacific Reef", "tortugas": "Arrecife del Pacífico"}
    assert english["Content-Language"] == "en"
    by_header = client.get(f"{EXHIBITIONS}arrecife/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    assert (by_header.json()["title"], by_header.json()["language"]) == ("Pacific Reef", "en")
    default = client.get(f"{EXHIBITIONS}arrecife/")
    assert (default.json()["title"], default["Content-Language"]) == ("Arrecife del Pacífico", "es")
    assert "Accept-Language" in default["Vary"]
    refused = client.get(f"{EXHIBITIONS}?lang=fr")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "lang"


def test_etag_answers_304_until_what_is_shown_changes(editor):
    exhibition = make(editor, publish=True)
    client = APIClient()
    first = client.get(EXHIBITIONS)
    tag = first["ETag"]

    again = client.get(EXHIBITIONS, HTTP_IF_NONE_MATCH=tag)
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", tag)
    weak = client.get(EXHIBITIONS, HTTP_IF_NONE_MATCH=f"W/{tag}")
    assert weak.status_code == 304
    item = client.get(f"{EXHIBITIONS}arrecife/")
    assert client.get(f"{EXHIBITIONS}arrecife/", HTTP_IF_NONE_MATCH=item["ETag"]).status_code == 304
    # A draft changes nothing the public sees: still 304.
    services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "Otro"})
    assert client.get(EXHIBITIONS, HTTP_IF_NONE_MATCH=tag).status_code == 304

    services.exhibition_publish(actor=editor, exhibition=exhibition)

    changed = client.get(EXHIBITIONS, HTTP_IF_NONE_MATCH=tag)
    assert changed.status_code == 200
    assert changed["ETag"] != tag
    assert client.get(f"{EXHIBITIONS}?lang=en")["ETag"] != changed["ETag"]


def test_visitor_app_filters(editor, place, species):
    section, other, habitat = place
    today = timezone.localdate()
    make(editor, publish=True, slug="tortugas", habitat=habitat, section=section, species=[species])
    make(
        editor,
        publish=True,
        slug="manglar",
        section=other,
        kind="temporary",
        opens_on=today + timedelta(days=10),
        closes_on=today + timedelta(days=40),
    )
    make(
        editor,
        publish=True,
        slug="pasada",
        opens_on=today - timedelta(days=90),
        closes_on=today - timedelta(days=60),
    )

    assert public_slugs(query=f"?open_on={today}") == ["tortugas"]
    assert public_slugs(query=f"?open_on={today + timedelta(days=20)}") == ["tortugas", "manglar"]
    assert public_slugs(query=f"?species={species.pk}") == ["tortugas"]
    assert public_slugs(query=f"?section={section.pk}") == ["tortugas"]
    assert public_slugs(query=f"?section={other.pk}") == ["manglar"]
    assert public_slugs(query=f"?habitat={habitat.pk}") == ["tortugas"]
    assert public_slugs(query="?kind=temporary") == ["manglar"]
    assert APIClient().get(f"{EXHIBITIONS}?open_on=2026-13-01").status_code == 400
    assert APIClient().get(f"{EXHIBITIONS}?species=abc").status_code == 400


def test_filters_apply_to_revisions_that_came_due(editor, place, species):
    section, other, _habitat = place
    exhibition = make(editor, publish=True, slug="tortugas", section=other)
    services.exhibition_update(
        actor=editor, exhibition=exhibition, data={"section": section, "species": [species]}
    )
    services.exhibition_publish(
        actor=editor, exhibition=exhibition, at=timezone.now() + timedelta(hours=1)
    )
    assert public_slugs(query=f"?section={section.pk}") == []
    assert public_slugs(query=f"?section={other.pk}") == ["tortugas"]

    time_passes(exhibition)

    assert public_slugs(query=f"?section={section.pk}") == ["tortugas"]
    assert public_slugs(query=f"?species={species.pk}") == ["tortugas"]
    assert public_slugs(query=f"?section={other.pk}") == []


def test_species_hidden_from_the_public_are_left_out(editor):
    shown = SpeciesFactory(common_name_es="Tortuga verde")
    hidden = SpeciesFactory(common_name_es="Tortuga en estudio", is_public=False)
    body = [
        {"type": "species_card", "value": {"species": hidden.pk, "note": "secreto"}},
        {"type": "species_card", "value": {"species": shown.pk, "note": ""}},
    ]
    make(editor, publish=True, species=[shown, hidden], body_es=body)

    item = APIClient().get(f"{EXHIBITIONS}arrecife/").json()

    assert [card["common_name"] for card in item["species"]] == ["Tortuga verde"]
    assert [block["value"]["species"]["id"] for block in item["body"]] == [shown.pk]


def test_pictures_in_the_sizes_asked_for(editor, picture):
    make(editor, publish=True, hero_image=picture)
    client = APIClient()

    listed = client.get(f"{EXHIBITIONS}?renditions=thumbnail").json()["results"][0]
    hero = listed["hero_image"]
    assert (hero["id"], hero["alt_text"], hero["width"], hero["height"]) == (
        picture.pk,
        "Agua",
        640,
        480,
    )
    assert list(hero["renditions"]) == ["thumbnail"]
    thumbnail = hero["renditions"]["thumbnail"]
    assert (thumbnail["width"], thumbnail["height"]) == (320, 180)
    assert thumbnail["url"].startswith("http://testserver/media/images/")
    assert thumbnail["url"].endswith(".webp")
    english = client.get(f"{EXHIBITIONS}arrecife/?lang=en").json()["hero_image"]
    assert english["alt_text"] == "Water"
    assert sorted(english["renditions"]) == ["card", "gallery", "hero"]
    for asked in ("huge", "card,", "card,card,card,card,card,card", "Card"):
        refused = client.get(f"{EXHIBITIONS}?renditions={asked}")
        assert refused.status_code == 400, asked
        assert (refused.json()["errors"][0]["field"], refused.json()["errors"][0]["code"]) == (
            "renditions",
            "rendition_unknown",
        )
    twice = client.get(f"{EXHIBITIONS}arrecife/?renditions=card,card").json()["hero_image"]
    assert list(twice["renditions"]) == ["card"]


def _pages(size):
    """Every page of the public list at ``size`` a page: (count, slugs of each page)."""
    pages, number = [], 1
    while True:
        response = APIClient().get(f"{EXHIBITIONS}?page={number}&page_size={size}")
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append([item["slug"] for item in body["results"]])
        if body["next"] is None:
            return body["count"], pages
        number += 1


def test_pages_and_counts_with_and_without_a_revision_come_due(editor, django_assert_num_queries):
    today = timezone.localdate()
    for n, slug in enumerate(["a-coral", "b-pulpo", "c-raya", "d-morena", "e-tiburon"]):
        make(editor, publish=True, slug=slug, opens_on=today - timedelta(days=50 - n))
    # Due in an hour: its new opening date moves it from last to first once due.
    moving = Exhibition.objects.get(slug="e-tiburon")
    services.exhibition_update(
        actor=editor, exhibition=moving, data={"opens_on": today - timedelta(days=90)}
    )
    services.exhibition_publish(
        actor=editor, exhibition=moving, at=timezone.now() + timedelta(hours=1)
    )
    # A first publication come due adds one that no row shows live yet.
    late = make(editor, slug="f-medusa", opens_on=today - timedelta(days=49))
    services.exhibition_publish(
        actor=editor, exhibition=late, at=timezone.now() + timedelta(hours=1)
    )

    # Nothing due: a page and its count in one query (the species and pictures: none here).
    with django_assert_num_queries(2):  # the page with its count, the species of its rows
        assert APIClient().get(f"{EXHIBITIONS}?page=2&page_size=2").json()["count"] == 5
    assert _pages(2) == (5, [["a-coral", "b-pulpo"], ["c-raya", "d-morena"], ["e-tiburon"]])

    time_passes(moving)
    time_passes(late)

    assert _pages(2) == (
        6,
        [["e-tiburon", "a-coral"], ["b-pulpo", "f-medusa"], ["c-raya", "d-morena"]],
    )
    assert _pages(4) == (
        6,
        [["e-tiburon", "a-coral", "b-pulpo", "f-medusa"], ["c-raya", "d-morena"]],
    )
    last = APIClient().get(f"{EXHIBITIONS}?page=last&page_size=4").json()
    assert (last["count"], [item["slug"] for item in last["results"]]) == (
        6,
        ["c-raya", "d-morena"],
    )
    beyond = APIClient().get(f"{EXHIBITIONS}?page=3&page_size=4")
    assert (beyond.status_code, beyond.json()["code"]) == (404, "not_found")

    services.publish_scheduled()

    assert _pages(2) == (
        6,
        [["e-tiburon", "a-coral"], ["b-pulpo", "f-medusa"], ["c-raya", "d-morena"]],
    )
    assert APIClient().get(f"{EXHIBITIONS}?page=4&page_size=2").status_code == 404
    last = APIClient().get(f"{EXHIBITIONS}?page=last&page_size=4").json()
    assert [item["slug"] for item in last["results"]] == ["c-raya", "d-morena"]
