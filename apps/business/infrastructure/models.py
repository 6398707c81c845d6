"""The park's sections and physical habitats, and their water quality."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.support.common.models import TimeStampedModel


class Section(TimeStampedModel):
    """An area of the park (e.g. "Arrecife", "Manglar"), public or back-of-house."""

    name_es = models.CharField(_("name (Spanish)"), max_length=120, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    is_public = models.BooleanField(_("open to the public"), default=True)
    display_order = models.PositiveIntegerField(_("display order"), default=0)

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ("display_order", "name_es")

    def __str__(self) -> str:
        return self.name_es


class HabitatKind(models.TextChoices):
    TANK = "tank", _("Tank")
    POOL = "pool", _("Pool")
    LAGOON = "lagoon", _("Lagoon")
    ENCLOSURE = "enclosure", _("Enclosure")
    QUARANTINE = "quarantine", _("Quarantine unit")
    REHABILITATION = "rehabilitation", _("Rehabilitation unit")


class WaterType(models.TextChoices):
    SALT = "salt", _("Salt water")
    BRACKISH = "brackish", _("Brackish water")
    FRESH = "fresh", _("Fresh water")
    NONE = "none", _("No water")


class Habitat(TimeStampedModel):
    """A physical habitat: tank, pool, lagoon, enclosure, quarantine or rehabilitation unit."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    section = models.ForeignKey(
        Section, on_delete=models.PROTECT, related_name="habitats", verbose_name=_("section")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=HabitatKind.choices)
    water_type = models.CharField(
        _("water type"), max_length=10, choices=WaterType.choices, default=WaterType.SALT
    )
    volume_litres = models.PositiveIntegerField(_("volume (litres)"), null=True, blank=True)
    capacity = models.PositiveIntegerField(
        _("capacity (animals)"), validators=[MinValueValidator(1)]
    )
    is_public = models.BooleanField(_("open to the public"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("habitat")
        verbose_name_plural = _("habitats")
        ordering = ("section__display_order", "name")
        constraints = (
            models.CheckConstraint(condition=Q(capacity__gte=1), name="habitat_capacity_positive"),
            models.CheckConstraint(
                condition=Q(water_type="none", volume_litres__isnull=True) | ~Q(water_type="none"),
                name="habitat_dry_has_no_volume",
            ),
        )

    def __str__(self) -> str:
        return self.name


class WaterParameter(models.TextChoices):
    TEMPERATURE = "temperature", _("Temperature (°C)")
    SALINITY = "salinity", _("Salinity (ppt)")
    PH = "ph", _("pH")
    DISSOLVED_OXYGEN = "dissolved_oxygen", _("Dissolved oxygen (mg/L)")
    AMMONIA = "ammonia", _("Ammonia (mg/L)")
    NITRITE = "nitrite", _("Nitrite (mg/L)")
    NITRATE = "nitrate", _("Nitrate (mg/L)")


WATER_UNITS = {
    WaterParameter.TEMPERATURE: "°C",
    WaterParameter.SALINITY: "ppt",
    WaterParameter.PH: "pH",
    WaterParameter.DISSOLVED_OXYGEN: "mg/L",
    WaterParameter.AMMONIA: "mg/L",
    WaterParameter.NITRITE: "mg/L",
    WaterParameter.NITRATE: "mg/L",
}


def _measurement(label: Any) -> models.DecimalField:
    return models.DecimalField(label, max_digits=7, decimal_places=3, null=True, blank=True)


class WaterTargetRange(TimeStampedModel):
    """The acceptable range of one parameter in one habitat."""

    habitat = models.ForeignKey(Habitat, on_delete=models.CASCADE, related_name="water_ranges")
    parameter = models.CharField(_("parameter"), max_length=20, choices=WaterParameter.choices)
    minimum = models.DecimalField(_("minimum"), max_digits=7, decimal_places=3)
    maximum = models.DecimalField(_("maximum"), max_digits=7, decimal_places=3)

    class Meta:
        verbose_name = _("water target range")
        verbose_name_plural = _("water target ranges")
        ordering = ("habitat__name", "parameter")
        constraints = (
            models.UniqueConstraint(
                fields=("habitat", "parameter"), name="one_range_per_parameter"
            ),
            models.CheckConstraint(
                condition=Q(minimum__lte=models.F("maximum")), name="range_min_le_max"
            ),
        )

    def __str__(self) -> str:
        return f"{self.habitat}: {self.parameter} {self.minimum} to {self.maximum}"

    def verdict(self, value: Decimal) -> str:
        """``"low"``, ``"high"`` or ``""`` (within range)."""
        if value < self.minimum:
            return "low"
        if value > self.maximum:
            return "high"
        return ""


class WaterReading(TimeStampedModel):
    """Measurements taken in a habitat at one time: any subset of the parameters."""

    habitat = models.ForeignKey(Habitat, on_delete=models.PROTECT, related_name="water_readings")
    taken_at = models.DateTimeField(_("taken at"), db_index=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("taken by"),
    )
    temperature = _measurement(_("temperature (°C)"))
    salinity = _measurement(_("salinity (ppt)"))
    ph = _measurement(_("pH"))
    dissolved_oxygen = _measurement(_("dissolved oxygen (mg/L)"))
    ammonia = _measurement(_("ammonia (mg/L)"))
    nitrite = _measurement(_("nitrite (mg/L)"))
    nitrate = _measurement(_("nitrate (mg/L)"))
    out_of_range = models.JSONField(
        _("out of range"), default=dict, blank=True, help_text=_('{"ph": "low", ...}')
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("water reading")
        verbose_name_plural = _("water readings")
        ordering = ("-taken_at",)
        indexes = (models.Index(fields=("habitat", "taken_at"), name="reading_habitat_time_idx"),)
        constraints = (
            models.CheckConstraint(
                condition=Q(temperature__isnull=False)
                | Q(salinity__isnull=False)
                | Q(ph__isnull=False)
                | Q(dissolved_oxygen__isnull=False)
                | Q(ammonia__isnull=False)
                | Q(nitrite__isnull=False)
                | Q(nitrate__isnull=False),
                name="reading_has_a_value",
            ),
        )

    def __str__(self) -> str:
        return f"{self.habitat} @ {timezone.localtime(self.taken_at):%Y-%m-%d %H:%M}"

    def values(self) -> dict[str, Decimal]:
        return {
            parameter: value
            for parameter in WaterParameter.values
            if (value := getattr(self, parameter)) is not None
        }


class WaterAlert(TimeStampedModel):
    """An out-of-range condition of one parameter in one habitat, open until a reading of that
    parameter is back within range."""

    habitat = models.ForeignKey(Habitat, on_delete=models.CASCADE, related_name="water_alerts")
    parameter = models.CharField(_("parameter"), max_length=20, choices=WaterParameter.choices)
    direction = models.CharField(
        _("direction"), max_length=4, choices=(("low", _("Low")), ("high", _("High")))
    )
    opened_at = models.DateTimeField(_("opened at"))
    opened_by_reading = models.ForeignKey(WaterReading, on_delete=models.PROTECT, related_name="+")
    last_value = models.DecimalField(_("last value"), max_digits=7, decimal_places=3)
    last_reading = models.ForeignKey(WaterReading, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by_reading = models.ForeignKey(
        WaterReading, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = _("water alert")
        verbose_name_plural = _("water alerts")
        ordering = ("-opened_at",)
        constraints = (
            models.UniqueConstraint(
                fields=("habitat", "parameter"),
                condition=Q(closed_at__isnull=True),
                name="one_open_alert_per_parameter",
            ),
        )

    def __str__(self) -> str:
        return f"{self.habitat}: {self.parameter} {self.direction}"
