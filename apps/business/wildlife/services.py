"""Writes of the wildlife module. Species, animals, weights and medical records are also
registered with the audit trail (apps.py), so every field change is recorded; the workflows
below add their own entry saying what happened."""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.business.infrastructure.models import Habitat, HabitatKind
from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, ServiceError
from apps.support.common.images import checked_image
from apps.support.common.services import model_create, model_update
from apps.support.security.models import User

from . import errors
from .models import (
    RESIDENT_STATUSES,
    Animal,
    AnimalLocation,
    AnimalStatus,
    MedicalRecord,
    Origin,
    Species,
    SpeciesImage,
    Weight,
)

# --- Species ----------------------------------------------------------------------------


SPECIES_FIELDS = (
    "common_name_es",
    "common_name_en",
    "scientific_name",
    "taxon_class",
    "taxon_order",
    "family",
    "aphia_id",
    "conservation_status",
    "cites_appendix",
    "description_es",
    "description_en",
    "diet",
    "natural_habitat",
    "typical_length_cm",
    "typical_lifespan_years",
    "is_public",
)
# What describes an animal; where it lives and its status change through the workflows.
ANIMAL_DESCRIPTION_FIELDS = (
    "house_name",
    "transponder_id",
    "sex",
    "hatch_date",
    "hatch_date_estimated",
    "is_public",
)
ANIMAL_REGISTER_FIELDS = (
    "institutional_id",
    "species",
    "origin",
    *ANIMAL_DESCRIPTION_FIELDS,
)
MEDICAL_RECORD_FIELDS = ("kind", "performed_on", "summary", "details", "medication")


def species_create(*, data: Mapping[str, Any]) -> Species:
    return model_create(model=Species, fields=SPECIES_FIELDS, data=data)


def species_update(*, species: Species, data: Mapping[str, Any]) -> Species:
    return model_update(instance=species, fields=SPECIES_FIELDS, data=data)[0]


def species_image_add(
    *,
    species: Species,
    image: UploadedFile,
    alt_text_es: str,
    alt_text_en: str = "",
    credit: str = "",
) -> SpeciesImage:
    """Store a picture after checking what it is by its content, not its name."""
    image = checked_image(image, max_bytes=settings.SPECIES_IMAGE_MAX_BYTES)
    with transaction.atomic():
        order = species.images.count()
        return SpeciesImage.objects.create(
            species=species,
            image=image,
            alt_text_es=alt_text_es,
            alt_text_en=alt_text_en,
            credit=credit,
            display_order=order,
        )


def species_image_remove(*, image: SpeciesImage) -> None:
    with transaction.atomic():
        stored = str(image.image.name)
        image.delete()
        transaction.on_commit(lambda: image.image.storage.delete(stored))


# --- Animals ----------------------------------------------------------------------------


def _lock_habitat(habitat_id: int) -> Habitat:
    """The target habitat, locked until the transaction ends: moves into it queue here."""
    return Habitat.objects.select_for_update().get(pk=habitat_id)


def _ensure_room(habitat: Habitat, *, animal: Animal | None) -> None:
    residents = Animal.objects.filter(current_habitat=habitat, status__in=RESIDENT_STATUSES)
    if animal is not None and animal.pk:
        residents = residents.exclude(pk=animal.pk)
    if residents.count() >= habitat.capacity:
        raise ConflictError(
            _("%(habitat)s is full (%(capacity)d animals).")
            % {"habitat": habitat.name, "capacity": habitat.capacity},
            code=errors.HABITAT_FULL,
            field="habitat",
        )


def _status_for(habitat: Habitat, current: str) -> str:
    if habitat.kind == HabitatKind.REHABILITATION:
        return AnimalStatus.IN_REHABILITATION
    if current == AnimalStatus.IN_REHABILITATION:
        return AnimalStatus.IN_COLLECTION
    return current


def animal_register(
    *,
    actor: User,
    habitat: Habitat,
    data: Mapping[str, Any],
    arrived_at: datetime | None = None,
    reason: str = "",
) -> Animal:
    """Register an animal in the collection, in its first habitat (``data``: what describes
    it, ``ANIMAL_REGISTER_FIELDS``).

    An animal that arrives in a rehabilitation unit starts "in rehabilitation"; anywhere else,
    "in collection".
    """
    unknown = sorted(set(data) - set(ANIMAL_REGISTER_FIELDS))
    if unknown:
        raise TypeError(f"Animal fields not writable here: {unknown}")
    arrived_at = arrived_at or timezone.now()
    animal = Animal(**data)
    animal.status = _status_for(habitat, AnimalStatus.IN_COLLECTION)
    animal.status_date = timezone.localdate(arrived_at)
    animal.current_habitat = habitat
    animal.full_clean(exclude=["current_habitat"])
    with transaction.atomic():
        habitat = _lock_habitat(habitat.pk)
        _ensure_room(habitat, animal=None)
        animal.current_habitat = habitat
        animal.save()
        AnimalLocation.objects.create(
            animal=animal,
            habitat=habitat,
            moved_at=arrived_at,
            reason=reason or _("Arrival (%(origin)s)") % {"origin": animal.get_origin_display()},
            moved_by=actor,
        )
        audit.record(
            action="wildlife.animal.registered",
            target=animal,
            metadata={"habitat": habitat.pk, "origin": animal.origin},
        )
    return animal


def animal_update(*, animal: Animal, data: Mapping[str, Any]) -> Animal:
    """Descriptive fields only; where the animal is and its status change through workflows."""
    return model_update(instance=animal, fields=ANIMAL_DESCRIPTION_FIELDS, data=data)[0]


def animal_move(
    *, actor: User, animal: Animal, habitat: Habitat, reason: str, moved_at: datetime | None = None
) -> Animal:
    """Move a resident animal to another habitat without ever exceeding its capacity.

    The animal's row and then the target habitat's row are locked, so two moves into the same
    habitat are decided one after the other and the second sees the first.
    """
    moved_at = moved_at or timezone.now()
    with transaction.atomic():
        animal = Animal.objects.select_for_update().get(pk=animal.pk)
        if animal.status not in RESIDENT_STATUSES:
            raise ConflictError(
                _("Only animals in the collection or in rehabilitation can be moved."),
                code=errors.NOT_RESIDENT,
            )
        if animal.current_habitat_id == habitat.pk:
            raise ConflictError(
                _("The animal is already there."), code=errors.SAME_HABITAT, field="habitat"
            )
        habitat = _lock_habitat(habitat.pk)
        _ensure_room(habitat, animal=animal)
        previous = animal.current_habitat_id
        animal.current_habitat = habitat
        new_status = _status_for(habitat, animal.status)
        update = ["current_habitat", "updated_at"]
        if new_status != animal.status:
            animal.status, animal.status_date = new_status, timezone.localdate(moved_at)
            update += ["status", "status_date"]
        animal.save(update_fields=update)
        AnimalLocation.objects.create(
            animal=animal, habitat=habitat, moved_at=moved_at, reason=reason, moved_by=actor
        )
        audit.record(
            action="wildlife.animal.moved",
            target=animal,
            changes={"current_habitat": [previous, habitat.pk]},
            metadata={"reason": reason},
        )
    return animal


def animal_release(
    *, actor: User, animal: Animal, released_on: date, place: str, notes: str = ""
) -> Animal:
    """Return a rescued (or confiscated) animal to the wild: records the date and place."""
    with transaction.atomic():
        animal = Animal.objects.select_for_update().get(pk=animal.pk)
        if (
            animal.origin not in (Origin.RESCUED, Origin.CONFISCATED)
            or animal.status not in RESIDENT_STATUSES
        ):
            raise ConflictError(
                _("Only rescued or confiscated animals still in our care can be released."),
                code=errors.NOT_RELEASABLE,
            )
        previous = animal.current_habitat_id
        animal.status, animal.status_date = AnimalStatus.RELEASED, released_on
        animal.current_habitat, animal.release_place = None, place
        animal.save(
            update_fields=[
                "status",
                "status_date",
                "current_habitat",
                "release_place",
                "updated_at",
            ]
        )
        AnimalLocation.objects.create(
            animal=animal,
            habitat=None,
            moved_at=timezone.now(),
            reason=_("Released at %(place)s") % {"place": place} + (f" — {notes}" if notes else ""),
            moved_by=actor,
        )
        audit.record(
            action="wildlife.animal.released",
            target=animal,
            changes={"current_habitat": [previous, None]},
            metadata={"released_on": released_on, "place": place},
        )
    return animal


# Status changes that are not a move or a release.
_STATUS_CHANGES = {AnimalStatus.TRANSFERRED_OUT, AnimalStatus.DECEASED}


def animal_status_set(
    *, actor: User, animal: Animal, status: str, status_date: date, reason: str
) -> Animal:
    """An animal leaves the collection: transferred out to another institution, or deceased."""
    if status not in _STATUS_CHANGES:
        raise ServiceError(
            _("Use a move or a release for this change."),
            code=errors.INVALID_STATUS_CHANGE,
            field="status",
        )
    with transaction.atomic():
        animal = Animal.objects.select_for_update().get(pk=animal.pk)
        if animal.status not in RESIDENT_STATUSES:
            raise ConflictError(_("The animal is no longer in our care."), code=errors.NOT_RESIDENT)
        previous = animal.current_habitat_id
        animal.status, animal.status_date, animal.current_habitat = status, status_date, None
        animal.save(update_fields=["status", "status_date", "current_habitat", "updated_at"])
        AnimalLocation.objects.create(
            animal=animal, habitat=None, moved_at=timezone.now(), reason=reason, moved_by=actor
        )
        audit.record(
            action=f"wildlife.animal.{status}",
            target=animal,
            changes={"current_habitat": [previous, None]},
            metadata={"reason": reason, "date": status_date},
        )
    return animal


def weight_record(
    *,
    actor: User,
    animal: Animal,
    weight_kg: Decimal,
    weighed_at: datetime | None = None,
    notes: str = "",
) -> Weight:
    with transaction.atomic():
        return Weight.objects.create(
            animal=animal,
            weight_kg=weight_kg,
            weighed_at=weighed_at or timezone.now(),
            recorded_by=actor,
            notes=notes,
        )


def medical_record_create(*, actor: User, animal: Animal, data: Mapping[str, Any]) -> MedicalRecord:
    return model_create(
        model=MedicalRecord,
        fields=MEDICAL_RECORD_FIELDS,
        data=data,
        animal=animal,
        veterinarian=actor,
    )


def medical_record_update(*, record: MedicalRecord, data: Mapping[str, Any]) -> MedicalRecord:
    """The animal and the veterinarian of a record never change."""
    return model_update(instance=record, fields=MEDICAL_RECORD_FIELDS, data=data)[0]
