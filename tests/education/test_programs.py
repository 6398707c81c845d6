"""Programs and instructors: public reads, who writes, images checked by content."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.business.education.models import Instructor, Program, ProgramImage
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import ProgramFactory, SectionFactory, SpeciesFactory, UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

PROGRAMS = "/api/v1/education/programs/"
INSTRUCTORS = "/api/v1/education/instructors/"

NEW_PROGRAM = {
    "slug": "tortugas-marinas",
    "title_es": "Tortugas marinas",
    "title_en": "Sea turtles",
    "audience": "families",
    "min_age": 4,
    "duration_minutes": 60,
    "price": "2500.00",
    "max_participants": 20,
    "is_public": True,
}


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "teal").save(buffer, "PNG")
    return SimpleUploadedFile("tortuga.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.mark.parametrize("role", [Role.EDUCATOR, Role.CONTENT_EDITOR])
def test_educators_and_content_editors_write_programs(role):
    species, section = SpeciesFactory(), SectionFactory()
    answer = client_for(staff_member(role)).post(
        PROGRAMS, {**NEW_PROGRAM, "species": [species.pk], "sections": [section.pk]}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    program = Program.objects.get()
    assert (program.price, list(program.species.all()), list(program.sections.all())) == (
        Decimal("2500.00"),
        [species],
        [section],
    )
    assert AuditEvent.objects.filter(target_type="education.program").exists()


@pytest.mark.parametrize("role", [None, Role.FINANCE, Role.CURATOR])
def test_nobody_else_writes_programs(role):
    user = staff_member(role) if role else UserFactory()
    assert client_for(user).post(PROGRAMS, NEW_PROGRAM, format="json").status_code == 403
    assert client_for(None).post(PROGRAMS, NEW_PROGRAM, format="json").status_code == 401
    assert Program.objects.count() == 0


def test_visitors_read_public_programs_only(api_client):
    shown = ProgramFactory(is_public=True)
    ProgramFactory(is_public=False)
    assert [row["id"] for row in api_client.get(PROGRAMS).json()["results"]] == [shown.pk]
    editor = client_for(staff_member(Role.CONTENT_EDITOR))
    assert editor.get(PROGRAMS).json()["count"] == 2


def test_the_age_and_participant_ranges_must_make_sense():
    editor = client_for(staff_member(Role.EDUCATOR))
    ages = editor.post(PROGRAMS, {**NEW_PROGRAM, "min_age": 12, "max_age": 8}, format="json")
    seats = editor.post(
        PROGRAMS, {**NEW_PROGRAM, "min_participants": 30, "max_participants": 20}, format="json"
    )
    ids = editor.post(PROGRAMS, {**NEW_PROGRAM, "sections": {}}, format="json")
    assert (ages.status_code, seats.status_code, ids.status_code) == (400, 400, 400)
    assert Program.objects.count() == 0


def test_program_pictures_are_checked_by_their_content_and_kept_in_order(settings):
    program = ProgramFactory()
    editor = client_for(staff_member(Role.CONTENT_EDITOR))
    images = f"{PROGRAMS}{program.pk}/images/"
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    refused = editor.post(images, {"image": fake, "alt_text_es": "x"}, format="multipart")
    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == ["image"]
    settings.SPECIES_IMAGE_MAX_BYTES = 10
    too_big = editor.post(images, {"image": png(), "alt_text_es": "x"}, format="multipart")
    assert (too_big.status_code, too_big.json()["code"]) == (400, "image_too_large")
    assert ProgramImage.objects.count() == 0
    settings.SPECIES_IMAGE_MAX_BYTES = 5 * 1024 * 1024
    first = editor.post(
        images, {"image": png(), "alt_text_es": "Una tortuga", "credit": "PMP"}, format="multipart"
    )
    second = editor.post(images, {"image": png(), "alt_text_es": "Otra"}, format="multipart")
    assert (first.status_code, second.status_code) == (201, 201), first.json()
    assert (first.json()["width"], first.json()["height"], first.json()["credit"]) == (8, 6, "PMP")
    shown = client_for(None).get(f"{PROGRAMS}{program.pk}/").json()["images"]
    assert [image["alt_text_es"] for image in shown] == ["Una tortuga", "Otra"]
    assert ProgramImage.objects.get(pk=first.json()["id"]).image.name.endswith(".png")
    visitor = client_for(UserFactory())
    assert visitor.delete(f"{images}{first.json()['id']}/").status_code == 403
    assert editor.delete(f"{images}{first.json()['id']}/").status_code == 204
    assert list(ProgramImage.objects.values_list("alt_text_es", flat=True)) == ["Otra"]
    assert editor.delete(f"{images}{first.json()['id']}/").status_code == 404


def test_instructors_are_educators():
    educator = staff_member(Role.EDUCATOR)
    curator = staff_member(Role.CURATOR)
    client = client_for(staff_member(Role.EDUCATOR))
    refused = client.post(INSTRUCTORS, {"user": curator.pk}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "not_an_educator")
    created = client.post(
        INSTRUCTORS,
        {"user": educator.pk, "specialties": ["tortugas"], "bio_es": "Bióloga marina."},
        format="json",
    )
    assert created.status_code == 201, created.json()
    twice = client.post(INSTRUCTORS, {"user": educator.pk}, format="json")
    assert twice.status_code == 400
    assert Instructor.objects.count() == 1
    Instructor.objects.update(is_active=False)
    assert client_for(None).get(INSTRUCTORS).json()["count"] == 0
    assert client.get(INSTRUCTORS).json()["count"] == 1
