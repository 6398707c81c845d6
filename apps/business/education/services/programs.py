"""Programs and instructors: the catalogue of what the education department offers and who
leads it. Both are registered with the audit trail (apps.py): every field change is recorded."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from apps.business.infrastructure.models import Section
from apps.business.wildlife.models import Species
from apps.support.common.errors import ServiceError
from apps.support.common.images import checked_image
from apps.support.common.services import model_create, model_update
from apps.support.security.models import User
from apps.support.security.roles import Role, role_names

from .. import errors
from ..models import Instructor, Program, ProgramImage

PROGRAM_FIELDS = (
    "slug",
    "title_es",
    "title_en",
    "summary_es",
    "summary_en",
    "description_es",
    "description_en",
    "audience",
    "min_age",
    "max_age",
    "duration_minutes",
    "price",
    "currency",
    "min_participants",
    "max_participants",
    "requirements_es",
    "requirements_en",
    "is_public",
)
INSTRUCTOR_FIELDS = ("specialties", "bio_es", "bio_en", "is_active")


def _related(
    data: Mapping[str, Any],
) -> tuple[dict[str, Any], Sequence[Species] | None, Sequence[Section] | None]:
    fields = {name: value for name, value in data.items() if name not in ("species", "sections")}
    return fields, data.get("species"), data.get("sections")


def _check_currency(data: Mapping[str, Any]) -> None:
    """Programs sell in the park's currency, as tickets do, so both fit in one order."""
    currency = data.get("currency")
    if currency is not None and currency != settings.PAYMENTS_CURRENCY:
        raise ServiceError(
            _("The park sells in %(currency)s.") % {"currency": settings.PAYMENTS_CURRENCY},
            code=errors.CURRENCY_NOT_SOLD,
            field="currency",
        )


def program_create(*, data: Mapping[str, Any]) -> Program:
    _check_currency(data)
    fields, species, sections = _related(data)
    with transaction.atomic():
        program = model_create(model=Program, fields=PROGRAM_FIELDS, data=fields)
        if species is not None:
            program.species.set(species)
        if sections is not None:
            program.sections.set(sections)
    return program


def program_update(*, program: Program, data: Mapping[str, Any]) -> Program:
    """Sessions already scheduled keep their capacity; enrolled participants their price."""
    _check_currency(data)
    fields, species, sections = _related(data)
    with transaction.atomic():
        program = model_update(instance=program, fields=PROGRAM_FIELDS, data=fields)[0]
        if species is not None:
            program.species.set(species)
        if sections is not None:
            program.sections.set(sections)
    return program


def program_image_add(
    *,
    program: Program,
    image: UploadedFile,
    alt_text_es: str,
    alt_text_en: str = "",
    credit: str = "",
) -> ProgramImage:
    """Add a picture to the program's gallery, checked by its content (JPEG, PNG or WebP,
    at most ``SPECIES_IMAGE_MAX_BYTES``), after the others."""
    image = checked_image(image, max_bytes=settings.SPECIES_IMAGE_MAX_BYTES)
    with transaction.atomic():
        return ProgramImage.objects.create(
            program=program,
            image=image,
            alt_text_es=alt_text_es,
            alt_text_en=alt_text_en,
            credit=credit,
            display_order=program.images.count(),
        )


def program_image_remove(*, image: ProgramImage) -> None:
    """Remove a picture; its file is deleted once the removal is committed."""
    with transaction.atomic():
        stored = str(image.image.name)
        storage = image.image.storage
        image.delete()
        transaction.on_commit(lambda: storage.delete(stored))


def _check_educator(user: User) -> None:
    if Role.EDUCATOR not in role_names(user) or not user.is_active:
        raise ServiceError(
            _("%(user)s does not have the educator role.") % {"user": user.email},
            code=errors.NOT_AN_EDUCATOR,
            field="user",
        )


def instructor_create(*, user: User, data: Mapping[str, Any]) -> Instructor:
    _check_educator(user)
    if Instructor.objects.filter(user=user).exists():
        raise ServiceError(
            _("%(user)s is already an instructor.") % {"user": user.email},
            code="unique",
            field="user",
        )
    return model_create(model=Instructor, fields=INSTRUCTOR_FIELDS, data=data, user=user)


def instructor_update(*, instructor: Instructor, data: Mapping[str, Any]) -> Instructor:
    """An instructor who leaves is made inactive: sessions already led keep them."""
    return model_update(instance=instructor, fields=INSTRUCTOR_FIELDS, data=data)[0]
