"""Exhibitions: editors and their clients, pictures made in memory, exhibitions written
through the services, and time moved on by moving the schedule into the past."""

import io
from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from apps.business.exhibitions import services
from apps.business.exhibitions.models import Exhibition
from apps.business.infrastructure.models import Habitat, Section
from apps.support.security.roles import Role
from tests.factories import SpeciesFactory
from tests.helpers import client_for, staff_member

EXHIBITIONS = "/api/v1/exhibitions/"
IMAGES = "/api/v1/exhibitions/images/"


def png(width=640, height=480, colour="navy", name="picture.png") -> SimpleUploadedFile:
    stream = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(stream, "PNG")
    return SimpleUploadedFile(name, stream.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def editor(db):
    return staff_member(Role.CONTENT_EDITOR, email="editor@example.org")


@pytest.fixture
def editor_client(editor):
    return client_for(editor)


@pytest.fixture
def picture(editor):
    return services.image_create(actor=editor, file=png(), alt_text_es="Agua", alt_text_en="Water")


def content(**fields):
    return {
        "slug": "arrecife",
        "kind": "permanent",
        "title_es": "Arrecife del Pacífico",
        "title_en": "Pacific Reef",
        "summary_es": "Peces de colores.",
        "summary_en": "Colourful fish.",
        "opens_on": timezone.localdate() - timedelta(days=30),
    } | fields


def make(editor, *, publish=False, **fields) -> Exhibition:
    exhibition = services.exhibition_create(actor=editor, data=content(**fields))
    if publish:
        services.exhibition_publish(actor=editor, exhibition=exhibition)
    return Exhibition.objects.get(pk=exhibition.pk)


def time_passes(exhibition: Exhibition, by=timedelta(hours=2)) -> None:
    """Move every schedule of ``exhibition`` ``by`` into the past: as if that time had gone
    by (the scheduling job has not run)."""
    for revision in exhibition.revisions.all():
        if revision.approved_go_live_at:
            revision.approved_go_live_at -= by
        for key in ("go_live_at", "expire_at"):
            if revision.content.get(key):
                moment = datetime.fromisoformat(revision.content[key].replace("Z", "+00:00"))
                revision.content[key] = (moment - by).isoformat()
        revision.save(update_fields=["approved_go_live_at", "content"])
    row = Exhibition.objects.get(pk=exhibition.pk)
    Exhibition.objects.filter(pk=row.pk).update(
        go_live_at=row.go_live_at - by if row.go_live_at else None,
        expire_at=row.expire_at - by if row.expire_at else None,
    )


@pytest.fixture
def place(db):
    section = Section.objects.create(name_es="Mar Abierto", name_en="Open Sea", display_order=1)
    other = Section.objects.create(name_es="Manglar", name_en="Mangrove", display_order=2)
    habitat = Habitat.objects.create(
        name="Piscina de Tortugas", section=section, kind="pool", water_type="salt", capacity=8
    )
    return section, other, habitat


@pytest.fixture
def species(db):
    return SpeciesFactory(common_name_es="Tortuga verde", common_name_en="Green turtle")
