"""Editors saving the same exhibition at the same moment through the HTTP API (several OS
processes, PostgreSQL): each save is a revision built on the one before, so no edit is lost.

``exhibition_update`` reads the latest draft under the exhibition's row lock (and hands it to
``_scheduled_as_row``, where the racers meet). The control run
takes the lock away: then every racer builds its revision on the same draft and all but the
last edit vanish from the draft, which the test must see, or it would prove nothing.
``meet_after`` makes that interleaving certain (a racer that has read the draft waits until a
rival has read it too, or is seen waiting for the row's lock; tests/race.py).
"""

import time

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from apps.business.exhibitions import services
from apps.business.exhibitions.models import Exhibition
from apps.support.security.roles import Role
from tests.helpers import staff_member
from tests.race import RETRY_FOR_SECONDS, meet_after, race

from .conftest import EXHIBITIONS, make

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EDITS = {
    "title_en": "Pacific Reef (new)",
    "summary_es": "Resumen nuevo.",
    "summary_en": "New summary.",
    "kind": "itinerant",
    "closes_on": "2030-12-31",
}


def edit_all_at_once():
    editors = [staff_member(Role.CONTENT_EDITOR) for _ in EDITS]

    def patch(field, value, token):
        def action(client):
            give_up_at = time.monotonic() + RETRY_FOR_SECONDS
            while True:
                answer = client.patch(
                    f"{EXHIBITIONS}arrecife/",
                    {field: value},
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {token}",
                )
                busy = answer.status_code == 409 and answer.json().get("code") == "busy"
                if not busy or time.monotonic() > give_up_at:
                    return ("patch", answer.status_code, field)
                time.sleep(1)

        return action

    return race(
        [
            patch(field, value, str(AccessToken.for_user(editor)))
            for (field, value), editor in zip(EDITS.items(), editors, strict=True)
        ]
    )


def draft_values(exhibition):
    draft = Exhibition.objects.get(pk=exhibition.pk).get_latest_revision_as_object()
    values = {field: getattr(draft, field) for field in EDITS}
    values["closes_on"] = values["closes_on"] and values["closes_on"].isoformat()
    return values


def test_every_edit_of_a_crowd_of_editors_is_in_the_draft(monkeypatch):
    exhibition = make(staff_member(Role.CONTENT_EDITOR), publish=True)
    meet_after(
        monkeypatch, services, "_scheduled_as_row", table="exhibitions_exhibition", armed=True
    )

    answers = edit_all_at_once()

    assert sorted(answers) == sorted(("patch", 200, field) for field in EDITS)
    assert draft_values(exhibition) == EDITS
    assert exhibition.revisions.count() == 2 + len(EDITS)


def test_control_without_the_row_lock_edits_are_lost(monkeypatch):
    exhibition = make(staff_member(Role.CONTENT_EDITOR), publish=True)
    monkeypatch.setattr(
        services, "_locked_row", lambda exhibition, actor: Exhibition.objects.get(pk=exhibition.pk)
    )
    meet_after(
        monkeypatch, services, "_scheduled_as_row", table="exhibitions_exhibition", armed=True
    )

    answers = edit_all_at_once()

    assert sorted(answers) == sorted(("patch", 200, field) for field in EDITS)
    kept = {field for field, value in draft_values(exhibition).items() if value == EDITS[field]}
    assert len(kept) < len(EDITS)
