"""Writing exhibitions through the API: drafts and revisions, the body's blocks checked and
its HTML made safe, publishing and unpublishing now or at a time, compare and restore, and
refusals that change nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient
from wagtail.models import Revision

from apps.business.exhibitions import services
from apps.business.exhibitions.models import Exhibition
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import SpeciesFactory, UserFactory
from tests.helpers import client_for, staff_member

from .conftest import EXHIBITIONS, content, make

pytestmark = pytest.mark.django_db


def as_json(data):
    return {
        key: (value.isoformat() if hasattr(value, "isoformat") else value)
        for key, value in data.items()
    }


def actions():
    return list(
        AuditEvent.objects.filter(action__startswith="exhibitions.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )


@pytest.mark.parametrize("role", [Role.CONTENT_EDITOR, Role.CURATOR, Role.ADMINISTRATOR])
def test_editors_create_a_draft_with_its_first_revision(role, picture, species):
    user = staff_member(role)
    body = [
        {"type": "rich_text", "value": "<p>Hola</p>"},
        {"type": "species_card", "value": {"species": species.pk, "note": "La nuestra"}},
    ]

    created = client_for(user).post(
        EXHIBITIONS,
        as_json(content(body_es=body, hero_image=picture.pk, species=[species.pk])),
        format="json",
    )

    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["content"]["slug"] == "arrecife"
    assert data["content"]["species"] == [species.pk]
    assert data["content"]["hero_image"] == picture.pk
    assert [(block["type"], block["value"]) for block in data["content"]["body_es"]] == [
        ("rich_text", "<p>Hola</p>"),
        ("species_card", {"species": species.pk, "note": "La nuestra"}),
    ]
    assert data["status"]["live"] is False
    exhibition = Exhibition.objects.get()
    revision = Revision.objects.get()
    assert (revision.user, data["status"]["latest_revision"]) == (user, revision.pk)
    assert exhibition.live is False
    assert actions() == ["exhibitions.image.created", "exhibitions.exhibition.created"]


def test_rich_text_keeps_only_the_safe_subset(editor_client):
    html = (
        '<p onclick="steal()">Hola <script>alert(1)</script><a href="javascript:alert(1)">x</a>'
        '<a href="https://parquemarino.org/" target="_blank">sitio</a><img src=x onerror=y>'
        "<strong>fuerte</strong><iframe src='https://evil.example'></iframe></p>"
    )
    created = editor_client.post(
        EXHIBITIONS,
        as_json(content(body_es=[{"type": "rich_text", "value": html}])),
        format="json",
    )

    assert created.status_code == 201, created.json()
    stored = created.json()["content"]["body_es"][0]["value"]
    assert stored == (
        '<p>Hola <a>x</a><a href="https://parquemarino.org/">sitio</a><strong>fuerte</strong></p>'
    )


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ("<p>not a list</p>", "body_es", "body_invalid"),
        ([{"type": "video", "value": {}}], "body_es", "body_invalid"),
        ([{"type": "fact_box", "value": "nope"}], "body_es", "body_invalid"),
        ([{"type": "rich_text", "value": {"html": "x"}}], "body_es", "body_invalid"),
        ([{"type": "rich_text", "value": "x", "extra": 1}], "body_es", "body_invalid"),
        (
            [{"type": "image", "value": {"image": 999999, "alt_text": "Agua"}}],
            "body_es.0.image",
            "invalid",
        ),
        (
            [{"type": "call_to_action", "value": {"label": "Ir", "url": "javascript:alert(1)"}}],
            "body_es.0.url",
            "invalid",
        ),
        (
            [{"type": "call_to_action", "value": {"label": "Ir", "url": "//evil.example/x"}}],
            "body_es.0.url",
            "invalid",
        ),
        (
            [{"type": "fact_box", "value": {"title": "Datos", "facts": []}}],
            "body_es.0.facts",
            "invalid",
        ),
        ([{"type": "rich_text", "value": "x"}] * 61, "body_es", "body_invalid"),
    ],
)
def test_bad_blocks_are_refused_and_nothing_is_written(editor, editor_client, body, field, code):
    exhibition = make(editor)
    revisions = Revision.objects.count()
    events = AuditEvent.objects.count()

    refused = editor_client.patch(f"{EXHIBITIONS}arrecife/", {"body_es": body}, format="json")

    assert refused.status_code == 400, refused.json()
    assert (refused.json()["errors"][0]["field"], refused.json()["errors"][0]["code"]) == (
        field,
        code,
    )
    assert Revision.objects.count() == revisions
    assert AuditEvent.objects.count() == events
    assert list(Exhibition.objects.get(pk=exhibition.pk).body_es.raw_data) == []


def test_links_of_calls_to_action_may_be_paths_of_the_site(editor_client):
    body = [
        {"type": "call_to_action", "value": {"label": "Entradas", "url": "/entradas?dia=hoy"}},
        {"type": "call_to_action", "value": {"label": "Más", "url": "https://example.org/a"}},
    ]
    created = editor_client.post(EXHIBITIONS, as_json(content(body_es=body)), format="json")
    assert created.status_code == 201, created.json()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"slug": "images"}, "slug"),
        ({"slug": "preview"}, "slug"),
        ({"slug": "no spaces"}, "slug"),
        ({"closes_on": "2020-01-01", "opens_on": "2020-02-01"}, "closes_on"),
        ({"title_es": ""}, "title_es"),
        ({"species": [987654]}, "species.0"),
        ({"kind": "forever"}, "kind"),
    ],
)
def test_bad_fields_are_refused(editor_client, fields, field):
    refused = editor_client.post(EXHIBITIONS, as_json(content(**fields)), format="json")

    assert refused.status_code == 400, refused.json()
    assert refused.json()["errors"][0]["field"] == field
    assert Exhibition.objects.count() == 0
    assert Revision.objects.count() == 0


def test_a_habitat_belongs_to_the_section_given(editor_client, place):
    _section, other, habitat = place
    refused = editor_client.post(
        EXHIBITIONS,
        as_json(content(section=other.pk, habitat=habitat.pk)),
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "habitat"
    assert Exhibition.objects.count() == 0


def test_a_slug_is_taken_once(editor, editor_client):
    make(editor)
    refused = editor_client.post(EXHIBITIONS, as_json(content()), format="json")
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (400, "slug")
    assert Exhibition.objects.count() == 1


def test_patch_is_a_new_revision_and_live_content_waits(editor, editor_client):
    exhibition = make(editor, publish=True)

    changed = editor_client.patch(
        f"{EXHIBITIONS}arrecife/", {"title_es": "Arrecife nuevo"}, format="json"
    )

    assert changed.status_code == 200, changed.json()
    assert changed.json()["content"]["title_es"] == "Arrecife nuevo"
    assert changed.json()["status"]["has_unpublished_changes"] is True
    assert Exhibition.objects.get(pk=exhibition.pk).title_es == "Arrecife del Pacífico"
    assert exhibition.revisions.count() == 3  # created, published, changed


def test_while_nothing_is_live_the_row_follows_the_draft(editor, editor_client):
    exhibition = make(editor)
    editor_client.patch(f"{EXHIBITIONS}arrecife/", {"title_es": "Nuevo"}, format="json")
    assert Exhibition.objects.get(pk=exhibition.pk).title_es == "Nuevo"


def test_revisions_compare_and_restore(editor, editor_client):
    exhibition = make(editor, publish=True)
    other_editor = staff_member(Role.CURATOR, email="curator@example.org")
    services.exhibition_update(
        actor=other_editor,
        exhibition=exhibition,
        data={"title_es": "Arrecife renovado", "summary_en": "New fish."},
    )

    listed = editor_client.get(f"{EXHIBITIONS}arrecife/revisions/").json()["results"]
    assert [(item["author"], item["title"], item["live"], item["latest"]) for item in listed] == [
        ("curator@example.org", "Arrecife renovado", False, True),
        ("editor@example.org", "Arrecife del Pacífico", True, False),
        ("editor@example.org", "Arrecife del Pacífico", False, False),
    ]
    first, latest = listed[-1]["id"], listed[0]["id"]
    compared = editor_client.get(f"{EXHIBITIONS}arrecife/revisions/compare/?a={first}&b={latest}")
    assert compared.status_code == 200
    assert compared.json()["changes"] == [
        {"field": "title_es", "before": "Arrecife del Pacífico", "after": "Arrecife renovado"},
        {"field": "summary_en", "before": "Colourful fish.", "after": "New fish."},
    ]
    one = editor_client.get(f"{EXHIBITIONS}arrecife/revisions/{latest}/").json()
    assert (one["content"]["title_es"], one["author"]) == (
        "Arrecife renovado",
        "curator@example.org",
    )

    restored = editor_client.post(f"{EXHIBITIONS}arrecife/revisions/{first}/restore/")

    assert restored.status_code == 201, restored.json()
    assert restored.json()["content"]["title_es"] == "Arrecife del Pacífico"
    assert restored.json()["content"]["summary_en"] == "Colourful fish."
    assert restored.json()["status"]["latest_revision"] not in (first, latest)
    assert exhibition.revisions.count() == 4
    assert APIClient().get(f"{EXHIBITIONS}arrecife/").json()["title"] == "Arrecife del Pacífico"
    assert actions()[-1] == "exhibitions.exhibition.restored"


def test_revisions_of_another_exhibition_are_not_found(editor, editor_client):
    make(editor)
    other = make(editor, slug="otra")
    foreign = other.revisions.get().pk
    assert (
        editor_client.post(f"{EXHIBITIONS}arrecife/revisions/{foreign}/restore/").status_code == 404
    )
    assert editor_client.get(f"{EXHIBITIONS}arrecife/revisions/{foreign}/").status_code == 404
    own = Exhibition.objects.get(slug="arrecife").revisions.get().pk
    compared = editor_client.get(f"{EXHIBITIONS}arrecife/revisions/compare/?a={own}&b={foreign}")
    assert (compared.status_code, compared.json()["code"]) == (400, "revision_not_found")
    assert Exhibition.objects.get(slug="arrecife").revisions.count() == 1


def test_publish_and_unpublish_with_their_audit_entries(editor, editor_client):
    make(editor)
    published = editor_client.post(f"{EXHIBITIONS}arrecife/publish/", {}, format="json")
    assert published.status_code == 200, published.json()
    assert published.json()["status"]["live"] is True
    at = timezone.now() + timedelta(days=2)
    scheduled = editor_client.post(
        f"{EXHIBITIONS}arrecife/unpublish/", {"at": at.isoformat()}, format="json"
    )
    assert parse_datetime(scheduled.json()["status"]["scheduled_unpublication"]) == at
    cancelled = editor_client.post(
        f"{EXHIBITIONS}arrecife/unpublish/", {"cancel": True}, format="json"
    )
    assert cancelled.json()["status"]["scheduled_unpublication"] is None
    unpublished = editor_client.post(f"{EXHIBITIONS}arrecife/unpublish/", {}, format="json")
    assert unpublished.json()["status"]["live"] is False

    assert actions() == [
        "exhibitions.exhibition.created",
        "exhibitions.exhibition.published",
        "exhibitions.exhibition.unpublish_scheduled",
        "exhibitions.exhibition.unpublish_cancelled",
        "exhibitions.exhibition.unpublished",
    ]
    event = AuditEvent.objects.get(action="exhibitions.exhibition.published")
    assert (event.actor_label, event.target_type) == (
        "editor@example.org",
        "exhibitions.exhibition",
    )


def test_schedule_refusals(editor, editor_client):
    make(editor)
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    refused = editor_client.post(f"{EXHIBITIONS}arrecife/publish/", {"at": past}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "schedule_in_past")
    not_live = editor_client.post(f"{EXHIBITIONS}arrecife/unpublish/", {}, format="json")
    assert (not_live.status_code, not_live.json()["code"]) == (409, "not_published")
    opens = timezone.now() + timedelta(days=3)
    editor_client.post(f"{EXHIBITIONS}arrecife/publish/", {"at": opens.isoformat()}, format="json")
    before_opening = (opens - timedelta(days=1)).isoformat()
    refused = editor_client.post(
        f"{EXHIBITIONS}arrecife/unpublish/", {"at": before_opening}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "schedule_order")
    nothing_to_cancel = editor_client.post(
        f"{EXHIBITIONS}arrecife/unpublish/", {"cancel": True}, format="json"
    )
    assert nothing_to_cancel.status_code == 409
    row = Exhibition.objects.get()
    assert (row.live, row.expire_at) == (False, None)
    assert actions() == [
        "exhibitions.exhibition.created",
        "exhibitions.exhibition.publish_scheduled",
    ]


@pytest.mark.parametrize("who", ["anonymous", "visitor", Role.TICKET_OFFICE, Role.AUDITOR])
def test_others_change_nothing(editor, who):
    exhibition = make(editor)
    if who == "anonymous":
        client, status = APIClient(), 401
    elif who == "visitor":
        client, status = client_for(UserFactory()), 403
    else:
        client, status = client_for(staff_member(who)), 403
    before = (Revision.objects.count(), AuditEvent.objects.count())
    revision = exhibition.revisions.get().pk

    answers = [
        client.post(EXHIBITIONS, as_json(content(slug="otra")), format="json"),
        client.patch(f"{EXHIBITIONS}arrecife/", {"title_es": "X"}, format="json"),
        client.post(f"{EXHIBITIONS}arrecife/publish/", {}, format="json"),
        client.post(f"{EXHIBITIONS}arrecife/unpublish/", {}, format="json"),
        client.post(f"{EXHIBITIONS}arrecife/revisions/{revision}/restore/"),
        client.post(f"{EXHIBITIONS}arrecife/preview-links/", {}, format="json"),
        client.get(f"{EXHIBITIONS}arrecife/revisions/"),
        client.get(f"{EXHIBITIONS}arrecife/preview-links/"),
        client.get("/api/v1/exhibitions/images/"),
    ]

    assert [answer.status_code for answer in answers] == [status] * len(answers)
    assert (Revision.objects.count(), AuditEvent.objects.count()) == before
    assert Exhibition.objects.get().live is False


def test_an_editor_lock_from_the_editors_screen_is_respected(editor, editor_client):
    exhibition = make(editor)
    holder = staff_member(Role.CURATOR)
    Exhibition.objects.filter(pk=exhibition.pk).update(
        locked=True, locked_by=holder, locked_at=timezone.now()
    )

    refused = editor_client.patch(f"{EXHIBITIONS}arrecife/", {"title_es": "X"}, format="json")

    assert (refused.status_code, refused.json()["code"]) == (409, "exhibition_locked")
    assert exhibition.revisions.count() == 1
    assert (
        client_for(holder)
        .patch(f"{EXHIBITIONS}arrecife/", {"title_es": "Y"}, format="json")
        .status_code
        == 200
    )


def test_gallery_and_species_are_part_of_each_revision(editor, editor_client, picture):
    exhibition = make(editor, publish=True)
    turtle = SpeciesFactory()
    editor_client.patch(
        f"{EXHIBITIONS}arrecife/",
        {"species": [turtle.pk], "gallery": [{"image": picture.pk, "caption_es": "Agua"}]},
        format="json",
    )
    assert list(Exhibition.objects.get(pk=exhibition.pk).species.all()) == []
    assert APIClient().get(f"{EXHIBITIONS}arrecife/").json()["gallery"] == []

    editor_client.post(f"{EXHIBITIONS}arrecife/publish/", {}, format="json")

    item = APIClient().get(f"{EXHIBITIONS}arrecife/").json()
    assert [card["id"] for card in item["species"]] == [turtle.pk]
    assert [(entry["image"]["id"], entry["caption"]) for entry in item["gallery"]] == [
        (picture.pk, "Agua")
    ]
