"""The collection in the back office. Species, animals, weights and medical records are
written through the wildlife services, as the API writes them (``ServiceForm``): an animal is
registered in its first habitat (``services.animal_register``: capacity, location history,
audit), and who recorded a weight or wrote a medical record is the signed-in member of staff,
never a choice on the form."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.business.infrastructure.models import Habitat
from apps.support.common.admin import BackOfficeInline, RecordAdmin, ServiceForm, ServiceFormAdmin
from apps.support.common.errors import ServiceError
from apps.support.common.images import checked_image

from . import services
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


class SpeciesForm(ServiceForm):
    class Meta:
        model = Species
        fields = services.SPECIES_FIELDS

    def write(self) -> Species:
        data = self.submitted(services.SPECIES_FIELDS)
        if self.adding:
            return services.species_create(data=data)
        return services.species_update(species=self.instance, data=data)


class SpeciesImageForm(forms.ModelForm):
    """A new picture is checked as the API checks it (``services.species_image_add``): by its
    content, JPEG, PNG or WebP, at most ``SPECIES_IMAGE_MAX_BYTES``."""

    class Meta:
        model = SpeciesImage
        fields = ("image", "alt_text_es", "alt_text_en", "credit", "display_order")

    def clean_image(self) -> Any:
        image = self.cleaned_data["image"]
        if "image" in self.changed_data and image:
            try:
                image = checked_image(image, max_bytes=settings.SPECIES_IMAGE_MAX_BYTES)
            except ServiceError as error:
                raise forms.ValidationError(str(error.message), code=error.code) from error
        return image


class SpeciesImageInline(BackOfficeInline):
    model = SpeciesImage
    form = SpeciesImageForm
    extra = 0


@admin.register(Species)
class SpeciesAdmin(ServiceFormAdmin):
    """Never deleted (animals and their history refer to a species): hide it with "public"."""

    form = SpeciesForm
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


class AnimalLocationInline(BackOfficeInline):
    model = AnimalLocation
    extra = 0
    can_delete = False
    readonly_fields = ("habitat", "moved_at", "reason", "moved_by")

    def has_add_permission(self, request, obj=None):
        return False


class AnimalForm(ServiceForm):
    """A new animal is registered in its first habitat (``services.animal_register``); a
    stored one changes only what describes it (``services.animal_update``)."""

    habitat = forms.ModelChoiceField(
        queryset=Habitat.objects.select_related("section").order_by("name"),
        label=_("first habitat"),
        help_text=_("Where the animal arrives; a rehabilitation unit makes it in rehabilitation."),
    )
    arrived_at = forms.SplitDateTimeField(
        label=_("arrived at"),
        required=False,
        widget=AdminSplitDateTime,
        help_text=_("Now, when left empty."),
    )
    reason = forms.CharField(label=_("reason"), required=False, max_length=255)

    class Meta:
        model = Animal
        fields = services.ANIMAL_REGISTER_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.adding:  # where it lives changes through the move workflow
            for name in ("habitat", "arrived_at", "reason"):
                self.fields.pop(name, None)

    def write(self) -> Animal:
        if self.adding:
            return services.animal_register(
                actor=self.actor,
                habitat=self.cleaned_data["habitat"],
                arrived_at=self.cleaned_data.get("arrived_at"),
                reason=self.cleaned_data.get("reason", ""),
                data=self.submitted(services.ANIMAL_REGISTER_FIELDS),
            )
        return services.animal_update(
            animal=self.instance, data=self.submitted(services.ANIMAL_DESCRIPTION_FIELDS)
        )


@admin.register(Animal)
class AnimalAdmin(ServiceFormAdmin):
    """Registered in their first habitat through ``services.animal_register``. Where an
    animal is and its status change through the API's move, release and status workflows
    (capacity, history, audit); here they are read-only, as are its identifier, species and
    origin once registered. Never deleted: its history refers to it."""

    form = AnimalForm

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
    add_fieldsets = (
        (None, {"fields": ("institutional_id", "species", "origin")}),
        (_("Arrival"), {"fields": ("habitat", "arrived_at", "reason")}),
        (_("Description"), {"fields": services.ANIMAL_DESCRIPTION_FIELDS}),
    )
    fieldsets = (
        (None, {"fields": ("institutional_id", "species", "origin")}),
        (_("Description"), {"fields": services.ANIMAL_DESCRIPTION_FIELDS}),
        (_("Status"), {"fields": ("status", "status_date", "current_habitat", "release_place")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("institutional_id", "species", "origin", *self.fieldsets[2][1]["fields"])

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return (AnimalLocationInline,) if obj is not None else ()


@admin.register(AnimalLocation)
class AnimalLocationAdmin(RecordAdmin):
    list_display = ("animal", "habitat", "moved_at", "reason", "moved_by")
    list_filter = ("habitat", "moved_at")
    search_fields = ("animal__institutional_id", "animal__house_name", "reason")
    list_select_related = ("animal", "habitat", "moved_by")


class WeightForm(ServiceForm):
    class Meta:
        model = Weight
        fields = ("animal", "weight_kg", "weighed_at", "notes")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "weighed_at" in self.fields:
            self.fields["weighed_at"].required = False  # now, as in the API
            self.fields["weighed_at"].help_text = _("Now, when left empty.")

    def write(self) -> Weight:
        return services.weight_record(
            actor=self.actor,  # who recorded it is whoever is signed in
            animal=self.cleaned_data["animal"],
            weight_kg=self.cleaned_data["weight_kg"],
            weighed_at=self.cleaned_data.get("weighed_at"),
            notes=self.cleaned_data.get("notes", ""),
        )


@admin.register(Weight)
class WeightAdmin(ServiceFormAdmin):
    """Weighings are recorded through ``services.weight_record``, by the signed-in member of
    staff; a recorded weighing is not changed (a new one is added), as in the API."""

    form = WeightForm
    list_display = ("animal", "weighed_at", "weight_kg", "recorded_by")
    list_filter = ("weighed_at", "animal__species")
    search_fields = ("animal__institutional_id", "animal__house_name")
    list_select_related = ("animal", "recorded_by")
    raw_id_fields = ("animal",)
    readonly_fields = ("recorded_by",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("animal", "weight_kg", "weighed_at", "notes")
        return ("animal", "weight_kg", "weighed_at", "notes", "recorded_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MedicalRecordForm(ServiceForm):
    class Meta:
        model = MedicalRecord
        fields = ("animal", *services.MEDICAL_RECORD_FIELDS)

    def write(self) -> MedicalRecord:
        data = self.submitted(services.MEDICAL_RECORD_FIELDS)
        if self.adding:
            return services.medical_record_create(
                actor=self.actor, animal=self.cleaned_data["animal"], data=data
            )
        return services.medical_record_update(record=self.instance, data=data)


@admin.register(MedicalRecord)
class MedicalRecordAdmin(ServiceFormAdmin):
    """Visible only to veterinarians and administrators. Written through the wildlife
    services: the veterinarian is whoever writes the record, and neither they nor the animal
    change afterwards."""

    form = MedicalRecordForm
    list_display = ("animal", "kind", "performed_on", "summary", "veterinarian")
    list_filter = ("kind", "performed_on")
    search_fields = ("animal__institutional_id", "animal__house_name", "summary")
    list_select_related = ("animal", "veterinarian")
    raw_id_fields = ("animal",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("animal", *services.MEDICAL_RECORD_FIELDS)
        return ("animal", "veterinarian", *services.MEDICAL_RECORD_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("animal", "veterinarian") if obj is not None else ()
