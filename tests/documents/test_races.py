"""Races on PostgreSQL through the real HTTP API, from several processes (tests/race.py).

- New versions of one document uploaded at the same moment get distinct, consecutive
  numbers: the number is read under the document's row lock.
- A share link allowing N downloads, used by many at once, serves exactly N: its count is
  read and raised under the link's row lock.

Each has a control run with the lock replaced by a plain read: ``meet_after`` holds every
racer after its check until a rival has made it too (or is seen waiting for the lock), so
without the lock they all read the same state, and the test sees what goes wrong. A test
that cannot fail proves nothing.
"""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from apps.business.documents import services
from apps.business.documents.models import Document, DocumentAccess, DocumentVersion, ShareLink
from apps.business.documents.services import documents as document_services
from apps.business.documents.services import sharing
from tests.race import RETRY_FOR_SECONDS, meet_after, race

from .conftest import DOCUMENTS, stored_files
from .samples import pdf_bytes

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

UPLOADERS = 6
LINK_DOWNLOADS = 3
DOWNLOADERS = 8


def upload_version(document_id: int, bearer: str, number: int):
    data = pdf_bytes(f"Version from racer {number}")

    def action(client):
        give_up_at = time.monotonic() + RETRY_FOR_SECONDS
        while True:
            response = client.post(
                f"{DOCUMENTS}{document_id}/versions/",
                {"file": SimpleUploadedFile(f"v{number}.pdf", data), "note": f"racer {number}"},
                HTTP_AUTHORIZATION=f"Bearer {bearer}",
            )
            busy = response.status_code == 409 and response.json().get("code") == "busy"
            if not busy or time.monotonic() > give_up_at:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        body = response.json()
        return ("upload", response.status_code, str(body.get("number", body.get("code"))))

    return action


@pytest.fixture
def document(curator, folders):
    return services.document_create(
        actor=curator,
        folder=folders["permits"],
        title="Permiso",
        file=SimpleUploadedFile("v1.pdf", pdf_bytes("First")),
        data={},
    )


def upload_all(document, curator):
    bearer = str(AccessToken.for_user(curator))
    return race([upload_version(document.pk, bearer, n) for n in range(UPLOADERS)])


def test_versions_uploaded_at_once_get_consecutive_numbers(
    monkeypatch, document, curator, document_files
):
    meet_after(
        monkeypatch,
        document_services,
        "next_version_number",
        table="documents_document",
        armed=True,
    )

    answers = upload_all(document, curator)

    assert sorted(status for _, status, _ in answers) == [201] * UPLOADERS, answers
    numbers = sorted(int(number) for _, _, number in answers)
    assert numbers == list(range(2, 2 + UPLOADERS))
    document.refresh_from_db()
    assert document.version_count == 1 + UPLOADERS
    assert document.current_version.number == 1 + UPLOADERS
    assert DocumentVersion.objects.filter(document=document).count() == 1 + UPLOADERS
    assert len(stored_files(document_files)) == 1 + UPLOADERS


def test_control_without_the_document_lock_uploads_collide(
    monkeypatch, document, curator, document_files
):
    monkeypatch.setattr(
        document_services, "lock_document", lambda document: Document.objects.get(pk=document.pk)
    )
    meet_after(
        monkeypatch,
        document_services,
        "next_version_number",
        table="documents_document",
        armed=True,
    )

    answers = upload_all(document, curator)

    # Every racer read "next is 2": one wins, the others hit the unique (document, number)
    # and are refused (409) instead of getting 3, 4, 5...
    statuses = sorted(status for _, status, _ in answers)
    assert statuses.count(201) < UPLOADERS
    assert 409 in statuses
    assert DocumentVersion.objects.filter(document=document).count() < 1 + UPLOADERS
    # What the refused uploads had stored was deleted after their transactions failed.
    assert len(stored_files(document_files)) == DocumentVersion.objects.count()


def download_through(token: str):
    def action(client):
        response = client.get(f"/api/v1/documents/shared/{token}/")
        if response.status_code == 200:
            b"".join(response.streaming_content)
            response.close()
            return ("download", 200, "file")
        return ("download", response.status_code, response.json()["code"])

    return action


def share_and_race(document, curator):
    _link, token = services.share_link_create(
        actor=curator, document=document, expires_in_hours=1, max_downloads=LINK_DOWNLOADS
    )
    return race([download_through(token) for _ in range(DOWNLOADERS)])


def test_a_link_allowing_n_downloads_serves_exactly_n_when_used_at_once(
    monkeypatch, document, curator
):
    meet_after(monkeypatch, sharing, "share_link_allows", table="documents_sharelink", armed=True)

    answers = share_and_race(document, curator)

    assert sorted(answers) == sorted(
        [("download", 200, "file")] * LINK_DOWNLOADS
        + [("download", 404, "share_link_invalid")] * (DOWNLOADERS - LINK_DOWNLOADS)
    )
    assert ShareLink.objects.get().download_count == LINK_DOWNLOADS
    assert DocumentAccess.objects.filter(channel="share_link").count() == LINK_DOWNLOADS


def test_control_without_the_link_lock_more_racers_pass_the_check(monkeypatch, document, curator):
    def unlocked(digest):
        return ShareLink.objects.filter(token_hash=digest).first()

    monkeypatch.setattr(sharing, "lock_share_link", unlocked)
    meet_after(monkeypatch, sharing, "share_link_allows", table="documents_sharelink", armed=True)

    answers = share_and_race(document, curator)

    # Every racer saw a live link. The counter's check constraint stops the database from
    # counting past the limit, but the racers beyond it now fail with 409 instead of being
    # told the link is used up: the lock is what makes the answer right.
    statuses = sorted(status for _, status, _ in answers)
    assert statuses.count(200) == LINK_DOWNLOADS
    assert 409 in statuses
    assert ShareLink.objects.get().download_count == LINK_DOWNLOADS
