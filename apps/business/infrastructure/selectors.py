"""Reads of the infrastructure module."""

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from .models import (
    WATER_UNITS,
    Habitat,
    Section,
    WaterAlert,
    WaterParameter,
    WaterReading,
    WaterTargetRange,
)

RESIDENT = ("in_collection", "in_rehabilitation")


def section_list(*, public_only: bool) -> QuerySet[Section]:
    sections = Section.objects.all()
    return sections.filter(is_public=True) if public_only else sections


def habitat_list(*, public_only: bool) -> QuerySet[Habitat]:
    habitats = (
        Habitat.objects.select_related("section")
        .prefetch_related("water_ranges")
        .annotate(occupancy=Count("animals", filter=Q(animals__status__in=RESIDENT)))
        .order_by("section__display_order", "name")
    )
    if public_only:
        habitats = habitats.filter(is_public=True, section__is_public=True)
    return habitats


def water_range_list() -> QuerySet[WaterTargetRange]:
    return WaterTargetRange.objects.select_related("habitat").order_by("habitat__name", "parameter")


def water_reading_list() -> QuerySet[WaterReading]:
    return WaterReading.objects.select_related("habitat", "taken_by")


def water_alert_list(*, open_only: bool = True) -> QuerySet[WaterAlert]:
    alerts = WaterAlert.objects.select_related("habitat", "habitat__section")
    return alerts.filter(closed_at__isnull=True) if open_only else alerts


def water_alerts_open() -> QuerySet[WaterAlert]:
    """Open alerts with their habitat, the longest open first."""
    return water_alert_list(open_only=True).order_by("opened_at", "id")


def water_series(
    *, habitat: Habitat, parameter: str, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """One parameter of one habitat over time, ready for a chart: points oldest first."""
    readings = WaterReading.objects.filter(habitat=habitat, **{f"{parameter}__isnull": False})
    if start is not None:
        readings = readings.filter(taken_at__gte=start)
    if end is not None:
        readings = readings.filter(taken_at__lt=end)
    target = habitat.water_ranges.filter(parameter=parameter).first()
    points = [
        {"taken_at": taken_at, "value": value, "flag": (flags or {}).get(parameter, "")}
        for taken_at, value, flags in readings.order_by("taken_at").values_list(
            "taken_at", parameter, "out_of_range"
        )
    ]
    return {
        "habitat": habitat.pk,
        "parameter": parameter,
        "unit": WATER_UNITS[WaterParameter(parameter)],
        "minimum": target.minimum if target else None,
        "maximum": target.maximum if target else None,
        "points": points,
    }
