"""Share links: made once (only the hash kept), expiring, revocable, counted, every use
logged and audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.business.documents.models import DocumentAccess, DocumentVersion, ShareLink
from apps.support.audit.models import AuditEvent
from apps.support.common.tokens import token_digest
from tests.helpers import client_for

from .conftest import DOCUMENTS
from .samples import pdf_bytes, upload

pytestmark = pytest.mark.django_db
SHARED = "/api/v1/documents/shared/"


@pytest.fixture
def permit(curator, folders):
    client = client_for(curator)
    data = pdf_bytes("CITES")
    body = {"title": "Permiso", "folder": folders["permits"].pk, "file": upload(data, "cites.pdf")}
    document = client.post(DOCUMENTS, body, format="multipart").json()
    return document["id"], data


def share(curator, document_id, **body):
    return client_for(curator).post(
        f"{DOCUMENTS}{document_id}/share-links/",
        {"expires_in_hours": 48, **body},
        format="json",
    )


def test_a_link_is_made_once_and_only_its_hash_is_kept(curator, permit):
    response = share(curator, permit[0], max_downloads=3, note="Laboratorio ABC")
    assert response.status_code == 201, response.json()
    body = response.json()
    token = body["token"]
    assert body["url"] == f"http://testserver{SHARED}{token}/"
    assert (body["max_downloads"], body["download_count"], body["is_live"]) == (3, 0, True)
    link = ShareLink.objects.get()
    assert link.token_hash == token_digest(token)
    assert token not in str(ShareLink.objects.values().get())
    listed = client_for(curator).get(f"{DOCUMENTS}{permit[0]}/share-links/").json()["results"]
    assert "token" not in listed[0]
    assert listed[0]["note"] == "Laboratorio ABC"
    created = AuditEvent.objects.get(action="documents.share_link.created")
    assert token not in str(created.metadata)
    assert created.metadata == {"share_link": link.pk, "hours": 48, "max_downloads": 3}


def test_someone_without_an_account_downloads_and_every_use_is_logged(curator, permit):
    token = share(curator, permit[0], max_downloads=2).json()["token"]
    anonymous = client_for(None)
    for _ in range(2):
        response = anonymous.get(
            f"{SHARED}{token}/", HTTP_USER_AGENT="LabBot", REMOTE_ADDR="192.0.2.7"
        )
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == permit[1]
        assert response["Content-Disposition"] == 'attachment; filename="cites.pdf"'
    used_up = anonymous.get(f"{SHARED}{token}/")
    assert (used_up.status_code, used_up.json()["code"]) == (404, "share_link_invalid")
    accesses = DocumentAccess.objects.filter(channel="share_link")
    assert accesses.count() == 2
    assert {(a.user, a.ip_address, a.user_agent) for a in accesses} == {
        (None, "192.0.2.7", "LabBot")
    }
    downloads = AuditEvent.objects.filter(action="documents.document.downloaded")
    assert [event.actor_label for event in downloads] == ["anonymous", "anonymous"]
    assert ShareLink.objects.get().download_count == 2


def test_expired_revoked_unknown_and_trashed_links_are_the_same_404(curator, permit):
    anonymous = client_for(None)
    expired = share(curator, permit[0]).json()["token"]
    ShareLink.objects.filter(token_hash=token_digest(expired)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked = share(curator, permit[0]).json()
    answer = client_for(curator).post(f"{DOCUMENTS}{permit[0]}/share-links/{revoked['id']}/revoke/")
    assert answer.status_code == 200
    assert answer.json()["revoked_at"] is not None
    assert AuditEvent.objects.filter(action="documents.share_link.revoked").count() == 1
    live = share(curator, permit[0]).json()["token"]
    client_for(curator).delete(f"{DOCUMENTS}{permit[0]}/")
    for token in (expired, revoked["token"], "no-such-token", live):
        response = anonymous.get(f"{SHARED}{token}/")
        assert (response.status_code, response.json()["code"]) == (404, "share_link_invalid")
    assert DocumentAccess.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"expires_in_hours": 0}, "expires_in_hours", "min_value"),
        ({"expires_in_hours": 100000}, "expires_in_hours", "max_value"),
        ({"max_downloads": 0}, "max_downloads", "min_value"),
        ({"expires_in_hours": "soon"}, "expires_in_hours", "incorrect_type"),
    ],
)
def test_bad_share_link_input_is_400_and_makes_nothing(curator, permit, body, field, code):
    response = share(curator, permit[0], **body)
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert ShareLink.objects.count() == 0


def test_the_service_refuses_hours_beyond_the_setting(curator, permit, settings):
    from apps.business.documents import services
    from apps.business.documents.models import Document
    from apps.support.common.errors import ServiceError

    settings.DOCUMENTS_SHARE_LINK_MAX_HOURS = 10
    with pytest.raises(ServiceError) as refused:
        services.share_link_create(
            actor=curator, document=Document.objects.get(), expires_in_hours=11
        )
    assert refused.value.code == "share_link_hours"


def test_head_on_a_share_link_tells_the_headers_and_uses_up_nothing(curator, permit):
    token = share(curator, permit[0], max_downloads=1).json()["token"]
    anonymous = client_for(None)
    audited = AuditEvent.objects.count()
    for _ in range(3):  # a mail scanner or a link preview checking the link
        head = anonymous.head(f"{SHARED}{token}/")
        assert head.status_code == 200
        assert head.content == b""
        assert head["Content-Length"] == str(len(permit[1]))
        assert head["Content-Disposition"] == 'attachment; filename="cites.pdf"'
    assert ShareLink.objects.get().download_count == 0
    assert DocumentAccess.objects.count() == 0
    assert AuditEvent.objects.count() == audited
    # The one download it allows is still there, then the link is used up for HEAD too.
    response = anonymous.get(f"{SHARED}{token}/")
    assert b"".join(response.streaming_content) == permit[1]
    assert anonymous.head(f"{SHARED}{token}/").status_code == 404
    assert anonymous.get(f"{SHARED}{token}/").status_code == 404


def test_a_link_whose_file_is_missing_answers_409_and_keeps_its_download(
    curator, permit, document_files
):
    token = share(curator, permit[0], max_downloads=1).json()["token"]
    version = DocumentVersion.objects.get()
    stored = document_files / str(version.file.name)
    moved = stored.with_suffix(".away")
    stored.rename(moved)
    anonymous = client_for(None)
    missing = anonymous.get(f"{SHARED}{token}/")
    assert (missing.status_code, missing.json()["code"]) == (409, "file_missing")
    assert ShareLink.objects.get().download_count == 0
    assert anonymous.head(f"{SHARED}{token}/").status_code == 409  # as GET says
    assert DocumentAccess.objects.count() == 0
    moved.rename(stored)  # the file is back (restored from a backup): the link still works
    response = anonymous.get(f"{SHARED}{token}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == permit[1]
    assert ShareLink.objects.get().download_count == 1
    assert DocumentAccess.objects.get().version == version
