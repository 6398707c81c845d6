"""Headless preview: a link that shows one draft revision to whoever holds it, until it
expires or is revoked; its token is shown once and kept only as a hash."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.business.exhibitions import services
from apps.business.exhibitions.models import PreviewLink
from apps.support.audit.models import AuditEvent

from .conftest import EXHIBITIONS, make

pytestmark = pytest.mark.django_db


def create_link(client, slug="arrecife", **body):
    response = client.post(f"{EXHIBITIONS}{slug}/preview-links/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_link_shows_its_draft_revision_to_anyone_until_it_expires(editor, editor_client):
    exhibition = make(editor, publish=True)
    services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "Borrador 1"})
    created = create_link(editor_client)
    # A later draft does not change what the link shows.
    services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "Borrador 2"})

    assert created["url"] == f"http://testserver/api/v1/exhibitions/preview/{created['token']}/"
    expires = timezone.datetime.fromisoformat(created["expires_at"])
    assert abs(expires - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    shown = APIClient().get(created["url"])
    assert shown.status_code == 200
    assert (shown.json()["title"], shown.json()["revision"]) == ("Borrador 1", created["revision"])
    assert shown["Cache-Control"] == "private, no-store"
    assert APIClient().get(created["url"] + "?lang=en").json()["title"] == "Pacific Reef"
    # The public still sees what is published.
    assert APIClient().get(f"{EXHIBITIONS}arrecife/").json()["title"] == "Arrecife del Pacífico"
    link = PreviewLink.objects.get()
    assert (link.uses, link.token_hash) == (
        2,
        hashlib.sha256(created["token"].encode()).hexdigest(),
    )

    PreviewLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    gone = APIClient().get(created["url"])
    assert (gone.status_code, gone.json()["code"]) == (404, "preview_link_invalid")


def test_a_revoked_link_stops_at_once(editor, editor_client):
    make(editor)
    created = create_link(editor_client, expires_in_hours=2)

    revoked = editor_client.post(f"{EXHIBITIONS}arrecife/preview-links/{created['id']}/revoke/")
    again = editor_client.post(f"{EXHIBITIONS}arrecife/preview-links/{created['id']}/revoke/")

    assert (revoked.status_code, revoked.json()["active"]) == (200, False)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert APIClient().get(created["url"]).status_code == 404
    listed = editor_client.get(f"{EXHIBITIONS}arrecife/preview-links/").json()["results"]
    assert [(item["id"], item["active"]) for item in listed] == [(created["id"], False)]
    assert "token" not in listed[0]
    assert list(
        AuditEvent.objects.filter(action__startswith="exhibitions.preview_link")
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == ["exhibitions.preview_link.created", "exhibitions.preview_link.revoked"]
    # The token is nowhere in the audit trail.
    assert not AuditEvent.objects.filter(metadata__icontains=created["token"]).exists()


def test_a_link_to_a_named_revision(editor, editor_client):
    exhibition = make(editor)
    first = exhibition.revisions.get().pk
    services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "Otro"})

    created = create_link(editor_client, revision=first)

    assert APIClient().get(created["url"]).json()["title"] == "Arrecife del Pacífico"


def test_refusals(editor, editor_client):
    make(editor)
    other = make(editor, slug="otra")
    foreign = other.revisions.get().pk
    for body, status, code in [
        ({"expires_in_hours": 0}, 400, "min_value"),
        ({"expires_in_hours": 721}, 400, "max_value"),
        ({"revision": foreign}, 404, "revision_not_found"),
    ]:
        answer = editor_client.post(f"{EXHIBITIONS}arrecife/preview-links/", body, format="json")
        assert (
            answer.status_code,
            answer.json()["errors"][0]["code"]
            if answer.json()["errors"]
            else answer.json()["code"],
        ) == (status, code)
    assert PreviewLink.objects.count() == 0
    assert APIClient().get(f"{EXHIBITIONS}preview/not-a-token/").status_code == 404
    assert editor_client.post(f"{EXHIBITIONS}otra/preview-links/999/revoke/").status_code == 404
