"""Reads of the wildlife module."""

from datetime import datetime
from typing import Any

from django.db.models import Count, F, Max, Prefetch, Q, QuerySet

from apps.business.infrastructure.models import HabitatKind

from .models import (
    RESIDENT_STATUSES,
    Animal,
    AnimalLocation,
    AnimalStatus,
    ConservationStatus,
    MedicalRecord,
    Species,
    SpeciesImage,
    Weight,
)


def conservation_status_list() -> QuerySet[ConservationStatus]:
    return ConservationStatus.objects.order_by("rank")


def species_list(*, public_only: bool) -> QuerySet[Species]:
    species = Species.objects.select_related("conservation_status").prefetch_related(
        Prefetch("images", queryset=SpeciesImage.objects.order_by("display_order", "id"))
    )
    return species.filter(is_public=True) if public_only else species


def animal_list(*, public_only: bool) -> QuerySet[Animal]:
    animals = Animal.objects.select_related(
        "species", "species__conservation_status", "current_habitat", "current_habitat__section"
    )
    if public_only:
        animals = animals.filter(
            is_public=True,
            species__is_public=True,
            status__in=RESIDENT_STATUSES,
        ).filter(current_habitat__is_public=True, current_habitat__section__is_public=True)
    return animals


def animal_locations(*, animal: Animal) -> QuerySet[AnimalLocation]:
    """Newest first; the id breaks ties, so that pages never repeat or skip a row."""
    return animal.locations.select_related("habitat", "moved_by").order_by("-moved_at", "-id")


def animal_weights(*, animal: Animal) -> QuerySet[Weight]:
    """Newest first; the id breaks ties, so that pages never repeat or skip a row."""
    return animal.weights.select_related("recorded_by").order_by("-weighed_at", "-id")


def medical_record_list() -> QuerySet[MedicalRecord]:
    return MedicalRecord.objects.select_related("animal", "animal__species", "veterinarian")


# Units where an animal is kept apart: for observation on arrival, or to be treated.
CARE_UNITS = (HabitatKind.QUARANTINE, HabitatKind.REHABILITATION)


def animals_in_care() -> QuerySet[Animal]:
    """Animals in our care that are in quarantine or being treated: in rehabilitation, or
    housed in a quarantine or rehabilitation unit (a medical record has no end date, so a
    treatment is read from the status and the unit, never guessed from the records)."""
    return (
        Animal.objects.filter(status__in=RESIDENT_STATUSES)
        .filter(Q(status=AnimalStatus.IN_REHABILITATION) | Q(current_habitat__kind__in=CARE_UNITS))
        .select_related("species", "current_habitat")
        .order_by("current_habitat__name", "institutional_id")
    )


def animals_weight_overdue(*, since: datetime) -> QuerySet[Animal]:
    """Animals in our care not weighed since ``since`` (never weighed included), with
    ``last_weighed_at`` (None for never), the longest overdue first."""
    return (
        Animal.objects.filter(status__in=RESIDENT_STATUSES)
        .annotate(last_weighed_at=Max("weights__weighed_at"))
        .filter(Q(last_weighed_at__lt=since) | Q(last_weighed_at__isnull=True))
        .select_related("species", "current_habitat")
        .order_by(F("last_weighed_at").asc(nulls_first=True), "institutional_id")
    )


CENSUS_GROUPS = {
    "species": ("species_id", F("species__common_name_es")),
    "habitat": ("current_habitat_id", F("current_habitat__name")),
    "section": ("current_habitat__section_id", F("current_habitat__section__name_es")),
    "status": ("status", F("status")),
}


def census(*, by: str) -> list[dict[str, Any]]:
    """Head counts grouped by species, habitat, section or status.

    By habitat and section only animals in our care count; by species and status, everyone
    (by status shows how many were released, transferred or died).
    """
    key, label = CENSUS_GROUPS[by]
    animals = Animal.objects.all()
    if by in ("habitat", "section"):
        animals = animals.filter(status__in=RESIDENT_STATUSES)
    rows = animals.values(key).annotate(label=label, count=Count("id")).order_by("-count", "label")
    labels = dict(AnimalStatus.choices)
    return [
        {
            "key": str(row[key]) if row[key] is not None else "",
            "label": str(labels.get(row["label"], row["label"]))
            if by == "status"
            else row["label"],
            "count": row["count"],
        }
        for row in rows
    ]


# The fast read path of the public catalogue: plain rows, no model instances.
SPECIES_ROW_FIELDS = (
    "id",
    "common_name_es",
    "common_name_en",
    "scientific_name",
    "taxon_class",
    "taxon_order",
    "family",
    "aphia_id",
    "conservation_status__code",
    "conservation_status__name_es",
    "conservation_status__name_en",
    "conservation_status__rank",
    "cites_appendix",
    "description_es",
    "description_en",
    "diet",
    "natural_habitat",
    "typical_length_cm",
    "typical_lifespan_years",
    "is_public",
)
SPECIES_IMAGE_ROW_FIELDS = (
    "id",
    "species_id",
    "image",
    "width",
    "height",
    "alt_text_es",
    "alt_text_en",
    "credit",
    "display_order",
)


def species_rows(*, public_only: bool) -> QuerySet[Species]:
    """The catalogue for lists: filter and order it, then read
    ``.values_list(*SPECIES_ROW_FIELDS)``."""
    species = Species.objects.all()
    return species.filter(is_public=True) if public_only else species


def species_image_rows(*, species_ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    """Each species' images as tuples in the order of ``SPECIES_IMAGE_ROW_FIELDS``."""
    images: dict[int, list[tuple[Any, ...]]] = {species_id: [] for species_id in species_ids}
    rows = (
        SpeciesImage.objects.filter(species_id__in=species_ids)
        .order_by("display_order", "id")
        .values_list(*SPECIES_IMAGE_ROW_FIELDS)
    )
    for row in rows:
        images[row[1]].append(row)
    return images
