"""Exhibition pictures: checked by content and size like species pictures, nothing stored
when refused."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.business.exhibitions.models import ExhibitionImage
from apps.support.audit.models import AuditEvent
from tests.factories import UserFactory
from tests.helpers import client_for

from .conftest import IMAGES, png

pytestmark = pytest.mark.django_db


def test_editors_upload_a_picture(editor_client, tmp_path):
    uploaded = editor_client.post(
        IMAGES,
        {"file": png(1200, 800), "alt_text_es": "Coral", "alt_text_en": "Coral", "credit": "Ana"},
        format="multipart",
    )

    assert uploaded.status_code == 201, uploaded.json()
    data = uploaded.json()
    assert (data["width"], data["height"], data["alt_text_es"], data["credit"]) == (
        1200,
        800,
        "Coral",
        "Ana",
    )
    image = ExhibitionImage.objects.get()
    assert image.file_size == image.file.size
    assert len(list(tmp_path.rglob("*.png"))) == 1
    assert editor_client.get(IMAGES).json()["results"][0]["id"] == image.pk
    assert AuditEvent.objects.filter(action="exhibitions.image.created").count() == 1


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (SimpleUploadedFile("x.png", b"%PDF-1.4 not a picture", "image/png"), "image_invalid"),
        (SimpleUploadedFile("x.png", b"", "image/png"), "empty"),
    ],
)
def test_not_a_picture_is_refused_and_nothing_is_stored(editor_client, tmp_path, upload, code):
    refused = editor_client.post(IMAGES, {"file": upload, "alt_text_es": "x"}, format="multipart")

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == code
    assert ExhibitionImage.objects.count() == 0
    assert list(tmp_path.rglob("*.*")) == []


def test_too_large_a_picture_is_refused(editor_client, settings, tmp_path):
    settings.EXHIBITION_IMAGE_MAX_BYTES = 1000
    refused = editor_client.post(
        IMAGES, {"file": png(800, 800, "white"), "alt_text_es": "x"}, format="multipart"
    )
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, "image_too_large")
    assert ExhibitionImage.objects.count() == 0
    assert list(tmp_path.rglob("*.*")) == []


def test_visitors_may_not_upload(db, tmp_path):
    refused = client_for(UserFactory()).post(
        IMAGES, {"file": png(), "alt_text_es": "x"}, format="multipart"
    )
    assert refused.status_code == 403
    assert list(tmp_path.rglob("*.*")) == []
