"""Review 13 (outside review of the exhibitions feature): what was found broken, written as
the behaviour the feature promises, each fixed since.
unchanged, so the suite stays green and a fix turns the test into a plain pass (then drop the
mark)."""

import io
import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from apps.business.exhibitions import services
from apps.business.exhibitions.models import Exhibition, ExhibitionImage

from .conftest import EXHIBITIONS, IMAGES, make, png, time_passes

pytestmark = pytest.mark.django_db


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def blank_png(width: int, height: int) -> SimpleUploadedFile:
    """A tiny file (a few KB) that claims ``width`` by ``height`` pixels (1-bit, all zero)."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    stream = io.BytesIO(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )
    return SimpleUploadedFile("big.png", stream.getvalue(), content_type="image/png")


# --- Pictures ----------------------------------------------------------------------------


def test_a_decompression_bomb_is_refused_with_a_400(editor_client, tmp_path):
    refused = editor_client.post(
        IMAGES, {"file": blank_png(20_000, 20_000), "alt_text_es": "x"}, format="multipart"
    )

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "image_too_large"
    assert ExhibitionImage.objects.count() == 0


def test_a_picture_of_more_pixels_than_the_editors_screen_allows_is_refused(
    editor_client, settings
):
    settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS = 1_000_000
    refused = editor_client.post(
        IMAGES, {"file": blank_png(2_000, 1_000), "alt_text_es": "x"}, format="multipart"
    )

    assert refused.status_code == 400
    assert ExhibitionImage.objects.count() == 0


# --- The body ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "value": {"image": 2**63, "alt_text": "a"}},
        {"type": "species_card", "value": {"species": 2**70}},
    ],
)
def test_an_out_of_range_id_in_a_block_is_a_400(editor, editor_client, block):
    make(editor)

    refused = editor_client.patch(f"{EXHIBITIONS}arrecife/", {"body_es": [block]}, format="json")

    assert refused.status_code == 400


def test_a_call_to_action_path_with_a_backslash_is_refused(editor, editor_client):
    make(editor)
    body = [{"type": "call_to_action", "value": {"label": "x", "url": "/\\evil.example"}}]

    refused = editor_client.patch(f"{EXHIBITIONS}arrecife/", {"body_es": body}, format="json")

    assert refused.status_code == 400


def test_a_block_id_that_is_not_a_string_is_refused(editor, editor_client):
    make(editor)
    body = [{"type": "rich_text", "value": "<p>x</p>", "id": 5}]

    answer = editor_client.patch(f"{EXHIBITIONS}arrecife/", {"body_es": body}, format="json")

    assert answer.status_code == 400


# --- Scheduling ------------------------------------------------------------------------------


def test_a_draft_saved_after_an_unpublication_was_scheduled_keeps_it(editor, editor_client):
    exhibition = make(editor)
    now = timezone.now()
    services.exhibition_publish(actor=editor, exhibition=exhibition, at=now + timedelta(hours=1))
    services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "B2"})
    services.exhibition_unpublish(actor=editor, exhibition=exhibition, at=now + timedelta(hours=2))
    assert Exhibition.objects.get(pk=exhibition.pk).expire_at is not None

    edited = editor_client.patch(f"{EXHIBITIONS}arrecife/", {"title_es": "B3"}, format="json")

    assert edited.json()["status"]["scheduled_unpublication"] is not None
    published = editor_client.post(f"{EXHIBITIONS}arrecife/publish/", {}, format="json")
    assert published.json()["status"]["scheduled_unpublication"] is not None


def test_a_slug_another_exhibition_will_take_is_refused(editor, editor_client):
    first = make(editor, publish=True, slug="a")
    services.exhibition_update(actor=editor, exhibition=first, data={"slug": "x"})
    services.exhibition_publish(
        actor=editor, exhibition=first, at=timezone.now() + timedelta(hours=1)
    )
    second = make(editor, slug="b")

    created = editor_client.post(
        EXHIBITIONS, {"slug": "x", "title_es": "Otra", "opens_on": "2026-01-01"}, format="json"
    )
    renamed = editor_client.patch(f"{EXHIBITIONS}b/", {"slug": "x"}, format="json")
    # A draft's slug counts too, scheduled or not.
    services.exhibition_update(actor=editor, exhibition=second, data={"slug": "y"})
    taken_by_draft = editor_client.post(
        EXHIBITIONS, {"slug": "y", "title_es": "Otra", "opens_on": "2026-01-01"}, format="json"
    )

    for answer in (created, renamed, taken_by_draft):
        assert answer.status_code == 400
        assert (answer.json()["code"], answer.json()["errors"][0]["field"]) == (
            "slug_taken",
            "slug",
        )
    # (The second is not live: its row follows its draft.)
    assert sorted(Exhibition.objects.values_list("slug", flat=True)) == ["a", "y"]
    time_passes(first)
    slugs = [item["slug"] for item in APIClient().get(EXHIBITIONS).json()["results"]]
    assert slugs == ["x"]


def test_the_scheduling_job_survives_a_slug_taken_meanwhile(editor, caplog):
    """The editors' screen checks slugs against rows only: a clash can still be made there.
    The job then logs it, tries it again next run, and publishes the others."""
    first = make(editor, publish=True, slug="a")
    services.exhibition_update(actor=editor, exhibition=first, data={"slug": "x"})
    services.exhibition_publish(
        actor=editor, exhibition=first, at=timezone.now() + timedelta(hours=1)
    )
    other = make(editor, publish=True, slug="o", title_es="Otra")
    Exhibition.objects.filter(pk=other.pk).update(slug="x")  # as /cms/ could
    third = make(editor, slug="c")
    services.exhibition_publish(
        actor=editor, exhibition=third, at=timezone.now() + timedelta(hours=1)
    )
    time_passes(first)
    time_passes(third)

    run = services.publish_scheduled()

    assert (run.published, run.failed) == (1, 1)
    assert Exhibition.objects.get(pk=third.pk).live is True
    assert "Scheduled revision" in caplog.text


# --- Preview ---------------------------------------------------------------------------------


def test_the_preview_list_and_item_agree_on_the_status(editor, editor_client):
    exhibition = make(editor, publish=True)
    services.exhibition_update(actor=editor, exhibition=exhibition, data={"title_es": "Nuevo"})
    services.exhibition_unpublish(
        actor=editor, exhibition=exhibition, at=timezone.now() + timedelta(hours=5)
    )

    listed = editor_client.get(f"{EXHIBITIONS}?preview=true").json()["results"][0]["status"]
    item = editor_client.get(f"{EXHIBITIONS}arrecife/?preview=true").json()["status"]

    assert listed["scheduled_unpublication"] == item["scheduled_unpublication"] is not None


@pytest.mark.parametrize("value", ["t", "y", "T", "Y"])
def test_every_spelling_of_preview_is_private(editor, editor_client, value):
    make(editor)

    answer = editor_client.get(f"{EXHIBITIONS}?preview={value}")

    assert answer.status_code == 200
    assert "status" in answer.json()["results"][0]
    assert answer["Cache-Control"] == "private, no-store"


def test_png_helper_still_works(editor_client):
    """A control: an ordinary picture is accepted (the helpers above are not at fault)."""
    assert (
        editor_client.post(
            IMAGES, {"file": png(64, 64), "alt_text_es": "x"}, format="multipart"
        ).status_code
        == 201
    )
