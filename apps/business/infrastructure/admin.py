"""The park's places and their water in the back office. A water reading is recorded
through ``services.water_reading_record``, as the API records it (values flagged against the
habitat's ranges, alerts opened and closed, audit), by the signed-in aquarist; the alerts are
records, listed with the hours they have been open."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from apps.support.common.admin import (
    BackOfficeInline,
    RecordAdmin,
    ServiceForm,
    ServiceFormAdmin,
)
from apps.support.common.errors import ServiceError

from . import services
from .models import (
    Habitat,
    Section,
    WaterAlert,
    WaterParameter,
    WaterReading,
    WaterTargetRange,
)


class SectionForm(ServiceForm):
    class Meta:
        model = Section
        fields = services.SECTION_FIELDS

    def write(self) -> Section:
        data = self.submitted(services.SECTION_FIELDS)
        if self.adding:
            return services.section_create(data=data)
        return services.section_update(section=self.instance, data=data)


@admin.register(Section)
class SectionAdmin(ServiceFormAdmin):
    form = SectionForm
    list_display = ("name_es", "name_en", "is_public", "display_order")
    list_filter = ("is_public",)
    search_fields = ("name_es", "name_en")
    ordering = ("display_order", "name_es")


class WaterTargetRangeForm(forms.ModelForm):
    """A habitat's target range, refused as ``water_range_set`` refuses it (no water in the
    habitat as submitted, minimum above maximum)."""

    class Meta:
        model = WaterTargetRange
        fields = ("parameter", "minimum", "maximum")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or data.get("DELETE"):
            return data
        try:
            services.water_range_check(
                habitat=self.instance.habitat, minimum=data["minimum"], maximum=data["maximum"]
            )
        except ServiceError as error:
            raise forms.ValidationError(str(error.message), code=error.code) from error
        return data

    def _post_clean(self) -> None:
        # A range already refused is not checked against the model's constraints again (the
        # same refusal, in the database's words).
        if not self.errors:
            super()._post_clean()  # type: ignore[misc]


class WaterTargetRangeInline(BackOfficeInline):
    model = WaterTargetRange
    form = WaterTargetRangeForm
    extra = 0


class HabitatForm(ServiceForm):
    """Written by ``habitat_create``/``habitat_update``, as through the API: a capacity below
    the animals living there is refused on the form."""

    class Meta:
        model = Habitat
        fields = services.HABITAT_FIELDS

    def write(self) -> Habitat:
        data = self.submitted(services.HABITAT_FIELDS)
        if self.adding:
            return services.habitat_create(data=data)
        return services.habitat_update(habitat=self.instance, data=data)


@admin.register(Habitat)
class HabitatAdmin(ServiceFormAdmin):
    form = HabitatForm
    list_display = (
        "name",
        "section",
        "kind",
        "water_type",
        "volume_litres",
        "capacity",
        "is_public",
    )
    list_filter = ("section", "kind", "water_type", "is_public")
    search_fields = ("name", "section__name_es")
    list_select_related = ("section",)
    inlines = (WaterTargetRangeInline,)


class WaterReadingForm(ServiceForm):
    # As long as the API takes them (its water reading serializer).
    notes = forms.CharField(
        label=_("notes"), required=False, max_length=2000, widget=forms.Textarea
    )

    class Meta:
        model = WaterReading
        fields = ("habitat", "taken_at", *WaterParameter.values, "notes")

    def write(self) -> WaterReading:
        data = self.cleaned_data
        return services.water_reading_record(
            actor=self.actor,  # who took it is whoever is signed in
            habitat=data["habitat"],
            taken_at=data["taken_at"],
            values={
                name: data[name] for name in WaterParameter.values if data.get(name) is not None
            },
            notes=data.get("notes", ""),
        )


@admin.register(WaterReading)
class WaterReadingAdmin(ServiceFormAdmin):
    """Recorded as the API records them (aquarists, administrators): a value outside the
    habitat's range is flagged and opens an alert, one back within range closes it. A recorded
    reading is not changed (a new one is taken)."""

    form = WaterReadingForm
    list_display = (
        "habitat",
        "taken_at",
        "temperature",
        "salinity",
        "ph",
        "dissolved_oxygen",
        "out_of_range",
    )
    list_filter = ("habitat", "taken_at")
    search_fields = ("habitat__name", "notes")
    date_hierarchy = "taken_at"
    list_select_related = ("habitat",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ("habitat", "taken_at", *WaterParameter.values, "notes")
        return fields if obj is None else (*fields, "taken_by", "out_of_range")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AlertStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("Open")), ("closed", _("Closed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("open", "closed"):
            return queryset.filter(closed_at__isnull=self.value() == "open")
        return queryset


@admin.register(WaterAlert)
class WaterAlertAdmin(RecordAdmin):
    """Opened and closed by the readings (``services.water_reading_record``): the API has no
    other way to close one, so neither has the back office."""

    list_display = (
        "habitat",
        "parameter",
        "direction",
        "last_value",
        "opened_at",
        "hours_open",
        "closed_at",
    )
    list_filter = (AlertStateFilter, "habitat", "parameter", "direction")
    search_fields = ("habitat__name",)
    list_select_related = ("habitat",)

    @admin.display(description=_("hours open"))
    def hours_open(self, alert: WaterAlert) -> str:
        """Until now while open; until the reading that closed it once closed."""
        until = alert.closed_at or timezone.now()
        return formats.number_format((until - alert.opened_at).total_seconds() / 3600, 1)
