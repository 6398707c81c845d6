from django.contrib import admin

from apps.support.common.admin import BackOfficeAdmin, BackOfficeInline, RecordAdmin

from .models import Habitat, Section, WaterAlert, WaterReading, WaterTargetRange


@admin.register(Section)
class SectionAdmin(BackOfficeAdmin):
    list_display = ("name_es", "name_en", "is_public", "display_order")
    list_filter = ("is_public",)
    search_fields = ("name_es", "name_en")
    ordering = ("display_order", "name_es")


class WaterTargetRangeInline(BackOfficeInline):
    model = WaterTargetRange
    extra = 0


@admin.register(Habitat)
class HabitatAdmin(BackOfficeAdmin):
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


@admin.register(WaterReading)
class WaterReadingAdmin(RecordAdmin):
    """Readings are entered through the API, which flags them and opens alerts."""

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


@admin.register(WaterAlert)
class WaterAlertAdmin(RecordAdmin):
    list_display = ("habitat", "parameter", "direction", "last_value", "opened_at", "closed_at")
    list_filter = ("parameter", "direction", ("closed_at", admin.EmptyFieldListFilter), "habitat")
    search_fields = ("habitat__name",)
    list_select_related = ("habitat",)
