"""Writes of the infrastructure module: habitats, target ranges, water readings and alerts."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, ServiceError
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


def section_create(**fields: Any) -> Section:
    with transaction.atomic():
        return Section.objects.create(**fields)


def section_update(*, section: Section, **fields: Any) -> Section:
    with transaction.atomic():
        for name, value in fields.items():
            setattr(section, name, value)
        section.save(update_fields=[*fields, "updated_at"])
    return section


def habitat_create(**fields: Any) -> Habitat:
    habitat = Habitat(**fields)
    habitat.full_clean()
    with transaction.atomic():
        habitat.save()
    return habitat


def habitat_update(*, habitat: Habitat, **fields: Any) -> Habitat:
    """Edit a habitat. Its capacity never drops below the animals living there: the row is
    locked as moves lock it, so a move and a capacity change are decided one after the other."""
    with transaction.atomic():
        habitat = Habitat.objects.select_for_update().get(pk=habitat.pk)
        for name, value in fields.items():
            setattr(habitat, name, value)
        habitat.full_clean()
        if "capacity" in fields:
            residents = habitat.animals.filter(status__in=RESIDENT).count()
            if fields["capacity"] < residents:
                raise ConflictError(
                    _("%(count)d animals live here: the capacity cannot be lower.")
                    % {"count": residents},
                    code=errors.CAPACITY_BELOW_OCCUPANCY,
                    field="capacity",
                )
        habitat.save(update_fields=[*fields, "updated_at"])
    return habitat


def water_range_set(
    *, habitat: Habitat, parameter: str, minimum: Decimal, maximum: Decimal
) -> WaterTargetRange:
    """Set (or replace) the acceptable range of one parameter in one habitat."""
    if habitat.water_type == WaterType.NONE:
        raise ServiceError(_("This habitat holds no water."), code=errors.NO_WATER, field="habitat")
    if minimum > maximum:
        raise ServiceError(
            _("The minimum is above the maximum."), code=errors.RANGE_INVERTED, field="minimum"
        )
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
