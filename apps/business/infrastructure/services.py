"""Writes of the infrastructure module: habitats, target ranges, water readings and alerts."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, ServiceError
from apps.support.common.services import model_create, model_update
from apps.support.security.models import User

from . import errors
from .models import (
    Habitat,
    Section,
    WaterAlert,
    WaterReading,
    WaterTargetRange,
    WaterType,
)
from .selectors import RESIDENT

# Sections, habitats and ranges are registered with the audit trail (apps.py): every field
# change is recorded by audit_register.


SECTION_FIELDS = (
    "name_es",
    "name_en",
    "description_es",
    "description_en",
    "is_public",
    "display_order",
)
HABITAT_FIELDS = (
    "name",
    "section",
    "kind",
    "water_type",
    "volume_litres",
    "capacity",
    "is_public",
    "description",
)


def section_create(*, data: Mapping[str, Any]) -> Section:
    return model_create(model=Section, fields=SECTION_FIELDS, data=data)


def section_update(*, section: Section, data: Mapping[str, Any]) -> Section:
    return model_update(instance=section, fields=SECTION_FIELDS, data=data)[0]


def habitat_create(*, data: Mapping[str, Any]) -> Habitat:
    return model_create(model=Habitat, fields=HABITAT_FIELDS, data=data)


def habitat_update(*, habitat: Habitat, data: Mapping[str, Any]) -> Habitat:
    """Edit a habitat. Its capacity never drops below the animals living there: the row is
    locked as moves lock it, so a move and a capacity change are decided one after the other."""
    with transaction.atomic():
        habitat = Habitat.objects.select_for_update().get(pk=habitat.pk)
        if "capacity" in data:
            residents = habitat.animals.filter(status__in=RESIDENT).count()
            if data["capacity"] < residents:
                raise ConflictError(
                    _("%(count)d animals live here: the capacity cannot be lower.")
                    % {"count": residents},
                    code=errors.CAPACITY_BELOW_OCCUPANCY,
                    field="capacity",
                )
        return model_update(instance=habitat, fields=HABITAT_FIELDS, data=data)[0]


def water_range_check(*, habitat: Habitat, minimum: Decimal, maximum: Decimal) -> None:
    """Refuse a range the habitat cannot have: none where it holds no water, and none whose
    minimum is above its maximum (the API's ``water_range_set`` and the back office's
    habitat form both ask here)."""
    if habitat.water_type == WaterType.NONE:
        raise ServiceError(_("This habitat holds no water."), code=errors.NO_WATER, field="habitat")
    if minimum > maximum:
        raise ServiceError(
            _("The minimum is above the maximum."), code=errors.RANGE_INVERTED, field="minimum"
        )


def water_range_set(
    *, habitat: Habitat, parameter: str, minimum: Decimal, maximum: Decimal
) -> WaterTargetRange:
    """Set (or replace) the acceptable range of one parameter in one habitat."""
    water_range_check(habitat=habitat, minimum=minimum, maximum=maximum)
    with transaction.atomic():
        target, _created = WaterTargetRange.objects.update_or_create(
            habitat=habitat, parameter=parameter, defaults={"minimum": minimum, "maximum": maximum}
        )
    return target


def water_reading_record(
    *,
    actor: User,
    habitat: Habitat,
    taken_at: datetime,
    values: dict[str, Decimal],
    notes: str = "",
) -> WaterReading:
    """Store a reading, flag every value outside its habitat's range, and open or close alerts.

    An alert stays open per (habitat, parameter) while the latest reading of that parameter is
    out of range; a reading back within range closes it. Readings entered late for an earlier
    time are flagged but leave the alerts to the newer readings.
    """
    values = {name: value for name, value in values.items() if value is not None}
    if not values:
        raise ServiceError(_("A reading needs at least one value."), code=errors.READING_EMPTY)
    if habitat.water_type == WaterType.NONE:
        raise ServiceError(_("This habitat holds no water."), code=errors.NO_WATER, field="habitat")
    ranges = {target.parameter: target for target in habitat.water_ranges.all()}
    flags = {
        name: verdict
        for name, value in values.items()
        if name in ranges and (verdict := ranges[name].verdict(value))
    }
    with transaction.atomic():
        # Readings of one habitat are taken one after the other, so two aquarists entering
        # values at the same moment cannot both open the same alert.
        Habitat.objects.select_for_update().filter(pk=habitat.pk).first()
        reading = WaterReading.objects.create(
            habitat=habitat,
            taken_at=taken_at,
            taken_by=actor,
            out_of_range=flags,
            notes=notes,
            **values,
        )
        open_alerts = {
            alert.parameter: alert
            for alert in WaterAlert.objects.select_for_update().filter(
                habitat=habitat, parameter__in=list(values), closed_at__isnull=True
            )
        }
        # Only the newest reading of a parameter decides its alert: a reading entered late for an
        # earlier time is stored and flagged, but does not open or close anything.
        newer = {
            name
            for name in values
            if WaterReading.objects.filter(
                habitat=habitat, taken_at__gt=taken_at, **{f"{name}__isnull": False}
            ).exists()
        }
        for name, value in values.items():
            if name in newer:
                continue
            alert = open_alerts.get(name)
            if name in flags and alert is None:
                WaterAlert.objects.create(
                    habitat=habitat,
                    parameter=name,
                    direction=flags[name],
                    opened_at=taken_at,
                    opened_by_reading=reading,
                    last_value=value,
                    last_reading=reading,
                )
            elif name in flags and alert is not None:
                alert.direction, alert.last_value, alert.last_reading = flags[name], value, reading
                alert.save(update_fields=["direction", "last_value", "last_reading", "updated_at"])
            elif alert is not None and name in ranges:
                alert.closed_at, alert.closed_by_reading = taken_at, reading
                alert.last_value, alert.last_reading = value, reading
                alert.save(
                    update_fields=[
                        "closed_at",
                        "closed_by_reading",
                        "last_value",
                        "last_reading",
                        "updated_at",
                    ]
                )
        audit.record(
            action="infrastructure.water_reading.recorded",
            target=reading,
            metadata={"habitat": habitat.pk, "values": values, "out_of_range": flags},
        )
    return reading
