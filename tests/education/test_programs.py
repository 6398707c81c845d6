"""Programs and instructors: public reads, who writes, images checked by content."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.business.education.models import Instructor, Program
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


def test_a_program_picture_is_checked_by_its_content():
    program = ProgramFactory()
    editor = client_for(staff_member(Role.CONTENT_EDITOR))
    fake = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    refused = editor.post(f"{PROGRAMS}{program.pk}/image/", {"image": fake}, format="multipart")
    assert refused.status_code == 400
    assert [error["field"] for error in refused.json()["errors"]] == ["image"]
    assert not Program.objects.get(pk=program.pk).image
    stored = editor.post(f"{PROGRAMS}{program.pk}/image/", {"image": png()}, format="multipart")
    assert stored.status_code == 200, stored.json()
    assert (stored.json()["image_width"], stored.json()["image_height"]) == (8, 6)
    assert Program.objects.get(pk=program.pk).image.name.endswith(".png")


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
