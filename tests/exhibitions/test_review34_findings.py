"""An outside review of the exhibitions' public read path in hand-written SQL (ADR 34): page
numbers and odd values, and the path with nothing due against the one that rebuilds revisions
come due, asserted exactly. Page numbers too large for the database's offset were found to
answer 500; they are the paginator's 404, as before."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.business.exhibitions import selectors, services
from apps.business.exhibitions.models import Exhibition
from tests.factories import SpeciesFactory

from .conftest import EXHIBITIONS, make, time_passes

pytestmark = pytest.mark.django_db


def get(path: str, **headers):
    """A public GET that answers a 500 instead of raising the view's exception."""
    return APIClient(raise_request_exception=False).get(path, **headers)


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["results"]]


@pytest.fixture
def five(editor):
    today = timezone.localdate()
    for n, slug in enumerate(["a-coral", "b-pulpo", "c-raya", "d-morena", "e-tiburon"]):
        make(editor, publish=True, slug=slug, opens_on=today - timedelta(days=50 - n))


# --- Page numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    ["0", "-1", "1.0", "abc", "6", "1000000", "9223372036854775807"],
)
def test_pages_that_are_not_there_are_404_in_the_api_shape(five, page):
    response = get(f"{EXHIBITIONS}?page={page}&page_size=1")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("page", ["99999999999999999999", "461168601842738792"])
def test_a_huge_page_number_is_a_404_not_a_500(five, page):
    response = get(f"{EXHIBITIONS}?page={page}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_page_number_of_5000_digits_is_a_404_not_a_500(five):
    response = get(f"{EXHIBITIONS}?page={'9' * 5000}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_page_numbers_in_other_scripts_count_as_the_paginator_reads_them(five):
    # Arabic-Indic and full-width digits are decimal: int() reads them, as Django's paginator.
    assert slugs(get(f"{EXHIBITIONS}?page=٣&page_size=2")) == ["e-tiburon"]
    assert slugs(get(f"{EXHIBITIONS}?page=\uff12&page_size=2")) == ["c-raya", "d-morena"]
    assert get(f"{EXHIBITIONS}?page=²&page_size=2").status_code == 404  # a digit, not decimal
    assert slugs(get(f"{EXHIBITIONS}?page=%202&page_size=2")) == ["c-raya", "d-morena"]
    assert get(f"{EXHIBITIONS}?page=1%00").status_code < 500


def test_page_last_empty_and_page_size_capped(five, editor):
    assert slugs(get(f"{EXHIBITIONS}?page=last&page_size=2")) == ["e-tiburon"]
    assert slugs(get(f"{EXHIBITIONS}?page=&page_size=")) == [
        "a-coral",
        "b-pulpo",
        "c-raya",
        "d-morena",
        "e-tiburon",
    ]
    for n in range(5, 105):
        make(editor, publish=True, slug=f"z-{n:03d}")
    capped = get(f"{EXHIBITIONS}?page_size=100000").json()
    assert (capped["count"], len(capped["results"])) == (105, 100)
    assert slugs(get(f"{EXHIBITIONS}?page=2&page_size=1000")) == [
        "z-100",
        "z-101",
        "z-102",
        "z-103",
        "z-104",
    ]
    assert get(f"{EXHIBITIONS}?page=3&page_size=1000").status_code == 404
    for size in ("0", "-1", "abc", "1.5", "1%00", "1'--", "99999999999999999999999"):
        response = get(f"{EXHIBITIONS}?page_size={size}")
        if size == "99999999999999999999999":  # a whole number from 1 up: capped
            assert len(response.json()["results"]) == 100
        else:
            assert (response.status_code, response.json()["code"]) == (400, "validation_error"), (
                size
            )


def test_an_empty_park_pages_as_before():
    empty = get(f"{EXHIBITIONS}?page=1").json()
    assert (empty["count"], empty["results"], empty["next"]) == (0, [], None)
    assert get(f"{EXHIBITIONS}?page=last").json()["results"] == []
    assert get(f"{EXHIBITIONS}?page=2").status_code == 404


# --- Values that look like SQL, NUL bytes, long slugs, ids that do not exist ----------------


@pytest.mark.parametrize(
    "query",
    [
        "species=1%20OR%201=1",
        "section=1;DROP%20TABLE%20exhibitions_exhibition",
        "habitat=0",
        "habitat=4611686018427387905",
        "kind=permanent'%20OR%20'1'='1",
        "open_on=2026-02-30",
        "open_on=1'--",
        "open_on=%00",
        "lang=es'--",
        "renditions=card%00",
        "renditions=nope",
        "renditions=card,card,card,card,card,card",
        "preview=1'",
    ],
)
def test_odd_query_values_are_refused_with_a_400(five, query):
    response = get(f"{EXHIBITIONS}?{query}")
    assert response.status_code == 400, response.content
    assert "code" in response.json()


@pytest.mark.parametrize(
    "query", ["species=999999", "section=4611686018427387904", "habitat=123456789"]
)
def test_filters_with_ids_that_do_not_exist_answer_nothing(five, query):
    assert get(f"{EXHIBITIONS}?{query}").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.mark.parametrize(
    "slug",
    ["a-coral'%20OR%20'1'='1", "a-coral%00", "a-coral;--", "%E2%80%AEcoral", "x" * 5000],
)
def test_odd_slugs_are_404_in_the_api_shape(five, slug):
    response = get(f"{EXHIBITIONS}{slug}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_renditions_each_once_in_the_order_asked(editor, picture):
    make(editor, publish=True, hero_image=picture)
    empty = get(f"{EXHIBITIONS}?renditions=").json()["results"][0]  # as not sent
    assert list(empty["hero_image"]["renditions"]) == ["card"]
    item = get(f"{EXHIBITIONS}arrecife/?renditions=hero,card,hero").json()
    assert list(item["hero_image"]["renditions"]) == ["hero", "card"]
    listed = get(f"{EXHIBITIONS}?renditions=thumbnail,thumbnail").json()["results"][0]
    assert list(listed["hero_image"]["renditions"]) == ["thumbnail"]


# --- The fast path (rows only) and the slow path (a revision come due) answer the same -------


def _dataset(editor, place, picture):
    section, other, habitat = place
    today = timezone.localdate()
    # Created so that their ids run against the alphabet: the catalogue orders by name.
    zeta = SpeciesFactory(common_name_es="Zafiro", common_name_en="Sapphire fish")
    alpha = SpeciesFactory(common_name_es="Anémona", common_name_en="Anemone")
    hidden = SpeciesFactory(common_name_es="Bajo estudio", is_public=False)
    make(editor, publish=True, slug="arrecife", species=[zeta, alpha], hero_image=picture)
    make(
        editor,
        publish=True,
        slug="tortugas",
        habitat=habitat,
        species=[hidden, alpha],
        opens_on=today - timedelta(days=30),
    )
    make(editor, publish=True, slug="manglar", section=other, kind="temporary")
    make(editor, publish=True, slug="mar-abierto", section=section, opens_on=today)
    make(
        editor,
        publish=True,
        slug="pasada",
        opens_on=today - timedelta(days=90),
        closes_on=today - timedelta(days=60),
    )
    changing = Exhibition.objects.get(slug="tortugas")
    services.exhibition_update(
        actor=editor, exhibition=changing, data={"title_es": "Tortugas marinas"}
    )
    services.exhibition_publish(
        actor=editor, exhibition=changing, at=timezone.now() + timedelta(hours=1)
    )
    return changing, (section, other, habitat, zeta, alpha, hidden)


def _answers(queries):
    """Each answer's body and ETag (an error: its status and code; its body names the
    request)."""
    answers = {}
    for query in queries:
        response = get(query)
        answers[query] = (
            (200, response.content, response["ETag"])
            if response.status_code == 200
            else (response.status_code, response.json()["code"])
        )
    return answers


def _queries(ids):
    section, other, habitat, _zeta, alpha, hidden = ids
    today = timezone.localdate()
    listed = [
        "",
        "page_size=2",
        "page=2&page_size=2",
        "page=3&page_size=2",
        "page=4&page_size=2",
        "page=last&page_size=2",
        "lang=en",
        f"open_on={today}",
        f"species={alpha.pk}",
        f"species={hidden.pk}",
        f"section={section.pk}",
        f"section={other.pk}",
        f"habitat={habitat.pk}",
        "kind=permanent",
        "kind=temporary",
        "kind=permanent&page=2&page_size=1",
    ]
    items = ["arrecife", "tortugas", "manglar", "mar-abierto", "pasada", "nada"]
    return [f"{EXHIBITIONS}?{query}" for query in listed] + [
        f"{EXHIBITIONS}{slug}/{suffix}" for slug in items for suffix in ("", "?lang=en")
    ]


def test_a_title_come_due_answers_the_same_before_and_after_the_job(editor, place, picture):
    changing, ids = _dataset(editor, place, picture)
    # Bring the one with two species into line with what a revision carries.
    time_passes(changing)
    queries = _queries(ids)
    before = _answers(queries)  # the slow path: a revision has come due
    assert selectors.due_revisions(timezone.now())

    services.publish_scheduled()

    assert not selectors.due_revisions(timezone.now())
    after = _answers(queries)  # the fast path
    different = {
        query: (before[query][:2], after[query][:2])
        for query in queries
        if before[query] != after[query]
    }
    assert different == {}
    assert get(f"{EXHIBITIONS}tortugas/").json()["title"] == "Tortugas marinas"


def test_species_come_due_answer_the_same_before_and_after_the_job(editor, place, picture):
    _dataset(editor, place, picture)
    arrecife = Exhibition.objects.get(slug="arrecife")
    services.exhibition_update(actor=editor, exhibition=arrecife, data={"title_en": "Reef"})
    services.exhibition_publish(
        actor=editor, exhibition=arrecife, at=timezone.now() + timedelta(hours=1)
    )
    time_passes(arrecife)
    queries = [f"{EXHIBITIONS}", f"{EXHIBITIONS}arrecife/"]
    before = _answers(queries)

    services.publish_scheduled()

    assert _answers(queries) == before


def test_a_due_revision_that_leaves_the_filter(editor, place):
    _section, other, _habitat = place
    today = timezone.localdate()
    leaving = make(editor, publish=True, slug="b-leaving", kind="permanent")
    make(editor, publish=True, slug="a-stays", kind="permanent", opens_on=today - timedelta(60))
    make(editor, publish=True, slug="c-other", kind="temporary", section=other)
    services.exhibition_update(
        actor=editor, exhibition=leaving, data={"kind": "temporary", "slug": "b-left"}
    )
    services.exhibition_publish(
        actor=editor, exhibition=leaving, at=timezone.now() + timedelta(hours=1)
    )
    time_passes(leaving)
    for _run in ("slow", "fast"):
        assert slugs(get(f"{EXHIBITIONS}?kind=permanent")) == ["a-stays"]
        assert slugs(get(f"{EXHIBITIONS}?kind=temporary")) == ["b-left", "c-other"]
        assert slugs(get(f"{EXHIBITIONS}?kind=temporary&page=2&page_size=1")) == ["c-other"]
        assert get(f"{EXHIBITIONS}?kind=permanent&page=2&page_size=1").status_code == 404
        assert get(f"{EXHIBITIONS}b-leaving/").status_code == 404
        assert get(f"{EXHIBITIONS}b-left/").json()["kind"] == "temporary"
        services.publish_scheduled()


def test_an_unpublication_come_due_empties_the_page(editor):
    only = make(editor, publish=True, slug="solo")
    services.exhibition_unpublish(
        actor=editor, exhibition=only, at=timezone.now() + timedelta(hours=1)
    )
    assert slugs(get(EXHIBITIONS)) == ["solo"]
    time_passes(only)
    for _run in ("slow", "fast"):
        assert get(EXHIBITIONS).json()["count"] == 0
        assert get(f"{EXHIBITIONS}?page=last").json()["results"] == []
        assert get(f"{EXHIBITIONS}solo/").status_code == 404
        assert get(f"{EXHIBITIONS}?page=2").status_code == 404
        services.publish_scheduled()


def test_a_due_revision_of_another_exhibition_changes_no_etag(editor, five):
    tags = {query: get(f"{EXHIBITIONS}{query}")["ETag"] for query in ("", "a-coral/")}
    other = make(editor, slug="z-first-time")
    services.exhibition_publish(
        actor=editor, exhibition=other, at=timezone.now() + timedelta(hours=1)
    )
    time_passes(other)
    assert get(f"{EXHIBITIONS}a-coral/")["ETag"] == tags["a-coral/"]  # slow path, same body
    assert slugs(get(f"{EXHIBITIONS}?page=2&page_size=5")) == ["z-first-time"]
    assert get(f"{EXHIBITIONS}?page=3&page_size=5").status_code == 404
