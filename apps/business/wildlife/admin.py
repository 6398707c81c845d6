from django.contrib import admin

from apps.support.common.admin import RecordAdmin

from .models import (
    Animal,
    AnimalLocation,
    ConservationStatus,
    MedicalRecord,
    Species,
    SpeciesImage,
    Weight,
)


@admin.register(ConservationStatus)
class ConservationStatusAdmin(RecordAdmin):
    """IUCN reference data, loaded by a migration."""

    list_display = ("code", "name_en", "name_es", "rank")
    search_fields = ("code", "name_en", "name_es")


class SpeciesImageInline(admin.TabularInline):
    model = SpeciesImage
    extra = 0
    fields = ("image", "alt_text_es", "alt_text_en", "credit", "display_order")


@admin.register(Species)
class SpeciesAdmin(admin.ModelAdmin):
    list_display = (
        "common_name_es",
        "scientific_name",
        "conservation_status",
        "taxon_class",
        "family",
        "is_public",
    )
    list_filter = ("conservation_status", "taxon_class", "family", "cites_appendix", "is_public")
    search_fields = ("common_name_es", "common_name_en", "scientific_name", "search_text")
    list_select_related = ("conservation_status",)
    inlines = (SpeciesImageInline,)


class AnimalLocationInline(admin.TabularInline):
    model = AnimalLocation
    extra = 0
    can_delete = False
    readonly_fields = ("habitat", "moved_at", "reason", "moved_by")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Animal)
class AnimalAdmin(admin.ModelAdmin):
    """Where an animal is and its status change through the API's move, release and status
    workflows (capacity, history, audit); here they are read-only."""

    list_display = (
        "institutional_id",
        "house_name",
        "species",
        "sex",
        "status",
        "current_habitat",
        "origin",
    )
    list_filter = (
        "status",
        "origin",
        "sex",
        "species",
        "current_habitat__section",
        "current_habitat",
    )
    search_fields = (
        "institutional_id",
        "house_name",
        "transponder_id",
        "species__common_name_es",
        "species__scientific_name",
    )
    list_select_related = ("species", "current_habitat")
    readonly_fields = ("status", "status_date", "current_habitat", "release_place")
    inlines = (AnimalLocationInline,)


@admin.register(AnimalLocation)
class AnimalLocationAdmin(RecordAdmin):
    list_display = ("animal", "habitat", "moved_at", "reason", "moved_by")
    list_filter = ("habitat", "moved_at")
    search_fields = ("animal__institutional_id", "animal__house_name", "reason")
    list_select_related = ("animal", "habitat", "moved_by")


@admin.register(Weight)
class WeightAdmin(admin.ModelAdmin):
    list_display = ("animal", "weighed_at", "weight_kg", "recorded_by")
    list_filter = ("weighed_at", "animal__species")
    search_fields = ("animal__institutional_id", "animal__house_name")
    list_select_related = ("animal", "recorded_by")
    raw_id_fields = ("animal",)


@admin.register(MedicalRecord)
class MedicalRecordAdmin(admin.ModelAdmin):
    """Visible only to veterinarians and administrators (model permissions)."""

    list_display = ("animal", "kind", "performed_on", "summary", "veterinarian")
    list_filter = ("kind", "performed_on")
    search_fields = ("animal__institutional_id", "animal__house_name", "summary")
    list_select_related = ("animal", "veterinarian")
    raw_id_fields = ("animal",)
