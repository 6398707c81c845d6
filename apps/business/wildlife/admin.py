"""The collection in the back office. Species, animals, weights and medical records are
written through the wildlife services, as the API writes them (``ServiceForm``): an animal is
registered in its first habitat (``services.animal_register``: capacity, location history,
audit), and who recorded a weight or wrote a medical record is the signed-in member of staff,
never a choice on the form.

The animal's workflows are the API's (``/api/v1/wildlife/animals/{id}/move/``, ``release/``,
``status/``): a page each, reached from the animal's page (``<id>/move/``...), and "Move to
another habitat" on the list, each calling the service with the signed-in member of staff.
Who may run them is who may change the animal through the API (curators, administrators),
which is who the API lets run them."""

from collections import Counter
from typing import Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.business.infrastructure.models import Habitat
from apps.business.payments.admin import RecordInline
from apps.support.common.admin import (
    BackOfficeInline,
    CheckedImageForm,
    RecordAdmin,
    ServiceForm,
    ServiceFormAdmin,
    SplitDateTimeField,
    WorkflowPagesMixin,
)
from apps.support.common.errors import ServiceError
from apps.support.security.models import User

from . import services
from .models import (
    RESIDENT_STATUSES,
    Animal,
    AnimalLocation,
    AnimalStatus,
    ConservationStatus,
    MedicalRecord,
    Origin,
    Species,
    SpeciesImage,
    Weight,
)


def _habitats() -> QuerySet[Habitat]:
    return Habitat.objects.select_related("section").order_by("name")


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


class SpeciesImageForm(CheckedImageForm):
    """A new picture is checked as ``services.species_image_add`` checks it."""

    class Meta:
        model = SpeciesImage
        fields = ("image", "alt_text_es", "alt_text_en", "credit", "display_order")


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


class AnimalLocationInline(RecordInline):
    """Where it has lived: one row per arrival, move, release, transfer or death."""

    model = AnimalLocation
    fields = ("habitat", "moved_at", "reason", "moved_by")
    readonly_fields = fields
    ordering = ("-moved_at", "-id")
    verbose_name_plural = _("moves")


class WeightInline(RecordInline):
    model = Weight
    fields = ("weighed_at", "weight_kg", "recorded_by", "notes")
    readonly_fields = fields
    ordering = ("-weighed_at", "-id")


class MedicalRecordInline(RecordInline):
    """Shown to whom the API shows medical records (veterinarians, administrators): to
    anyone else the inline is not there at all."""

    model = MedicalRecord
    fields = ("performed_on", "kind", "summary", "veterinarian", "medication")
    readonly_fields = fields
    ordering = ("-performed_on", "-id")
    show_change_link = True


class AnimalForm(ServiceForm):
    """A new animal is registered in its first habitat (``services.animal_register``); a
    stored one changes only what describes it (``services.animal_update``)."""

    habitat = forms.ModelChoiceField(
        queryset=Habitat.objects.select_related("section").order_by("name"),
        label=_("first habitat"),
        help_text=_("Where the animal arrives; a rehabilitation unit makes it in rehabilitation."),
    )
    arrived_at = SplitDateTimeField(
        label=_("arrived at"),
        required=False,
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


class WorkflowForm(forms.Form):
    """One of the animal's workflows: ``perform`` calls its service. A refusal of the service
    becomes the form's error (next to its field when it names one) and nothing is written."""

    title: ClassVar[Any]
    done: ClassVar[Any]

    def perform(self, *, actor: User, animal: Animal) -> Animal:
        raise NotImplementedError

    def run(self, *, actor: User, animal: Animal) -> bool:
        try:
            self.perform(actor=actor, animal=animal)
        except ServiceError as error:
            field = error.field if error.field in self.fields else NON_FIELD_ERRORS
            self.add_error(None if field == NON_FIELD_ERRORS else field, str(error.message))
            return False
        return True


class MoveForm(WorkflowForm):
    title = _("Move to another habitat")
    done = _("%(animal)s moved to %(habitat)s.")

    habitat = forms.ModelChoiceField(queryset=_habitats(), label=_("destination habitat"))
    reason = forms.CharField(label=_("reason"), max_length=255)
    moved_at = SplitDateTimeField(
        label=_("moved at"),
        required=False,
        help_text=_("Now, when left empty."),
    )

    def perform(self, *, actor: User, animal: Animal) -> Animal:
        return services.animal_move(
            actor=actor,
            animal=animal,
            habitat=self.cleaned_data["habitat"],
            reason=self.cleaned_data["reason"],
            moved_at=self.cleaned_data.get("moved_at"),
        )


class ReleaseForm(WorkflowForm):
    title = _("Release to the wild")
    done = _("%(animal)s released.")

    released_on = forms.DateField(label=_("released on"), widget=AdminDateWidget)
    place = forms.CharField(label=_("place"), max_length=255)
    notes = forms.CharField(label=_("notes"), required=False, max_length=2000)

    def perform(self, *, actor: User, animal: Animal) -> Animal:
        return services.animal_release(actor=actor, animal=animal, **self.cleaned_data)


class StatusForm(WorkflowForm):
    title = _("Transferred out or deceased")
    done = _("The status of %(animal)s is changed.")

    status = forms.ChoiceField(
        label=_("status"),
        choices=[
            (AnimalStatus.TRANSFERRED_OUT.value, AnimalStatus.TRANSFERRED_OUT.label),
            (AnimalStatus.DECEASED.value, AnimalStatus.DECEASED.label),
        ],
    )
    status_date = forms.DateField(label=_("date"), widget=AdminDateWidget)
    reason = forms.CharField(label=_("reason"), max_length=255)

    def perform(self, *, actor: User, animal: Animal) -> Animal:
        return services.animal_status_set(actor=actor, animal=animal, **self.cleaned_data)


# The workflows of an animal's page, by the last part of their address.
WORKFLOWS: dict[str, type[WorkflowForm]] = {
    "move": MoveForm,
    "release": ReleaseForm,
    "status": StatusForm,
}


class MoveActionForm(ActionForm):
    """Beside the list's actions: where "Move to another habitat" takes the chosen animals."""

    habitat = forms.ModelChoiceField(
        queryset=_habitats(), required=False, label=_("destination habitat")
    )
    reason = forms.CharField(label=_("reason"), required=False, max_length=255)


@admin.register(Animal)
class AnimalAdmin(WorkflowPagesMixin, ServiceFormAdmin):
    """Registered in their first habitat through ``services.animal_register``. Where an
    animal is and its status change through the workflows (move, release, transfer or death:
    capacity, history, audit); on the form they are read-only, as are its identifier, species
    and origin once registered. Never deleted: its history refers to it."""

    workflow_names = tuple(WORKFLOWS)

    form = AnimalForm
    action_form = MoveActionForm
    actions = ("move_animals",)
    change_form_template = "admin/wildlife/animal/change_form.html"

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
        "species__common_name_en",
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
        if obj is None:
            return ()
        return (AnimalLocationInline, WeightInline, MedicalRecordInline)

    # --- Workflows -----------------------------------------------------------------------

    def has_move_permission(self, request: HttpRequest) -> bool:
        """Move, release, transfer or death: who may change the animal through the API
        (``PATCH``) is who the API lets run its workflows (curators, administrators)."""
        return self.has_change_permission(request)

    def workflows_of(self, animal: Animal) -> list[tuple[str, Any]]:
        """The workflows that apply to ``animal`` now: (address, title)."""
        if animal.status not in RESIDENT_STATUSES:
            return []
        names = ["move", "status"]
        if animal.origin in (Origin.RESCUED, Origin.CONFISCATED):
            names.insert(1, "release")
        return [(name, WORKFLOWS[name].title) for name in names]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        animal = self.get_object(request, unquote(object_id))
        workflows = []
        if animal is not None and self.has_move_permission(request):
            workflows = self.workflows_of(animal)
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "workflows": workflows}
        )

    def workflow_view(self, request: HttpRequest, object_id: str, workflow: str) -> HttpResponse:
        """The page of one workflow: its form, and the service's answer."""
        if not self.has_move_permission(request):
            raise PermissionDenied
        animal = self.get_object(request, unquote(object_id))
        if animal is None:
            raise Http404
        form_class = WORKFLOWS[workflow]
        # An empty POST is a form without its fields (errors shown), not the blank page.
        form = form_class(request.POST if request.method == "POST" else None)
        actor = cast(User, request.user)  # admin_view: a signed-in member of staff
        if request.method == "POST" and form.is_valid() and form.run(actor=actor, animal=animal):
            animal.refresh_from_db()
            self.message_user(
                request,
                form.done % {"animal": animal, "habitat": animal.current_habitat},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(
                reverse(
                    f"{self.admin_site.name}:wildlife_animal_change",
                    args=[animal.pk],
                )
            )
        context = {
            **self.admin_site.each_context(request),
            "title": form_class.title,
            "subtitle": str(animal),
            "opts": self.opts,
            "original": animal,
            "form": form,
            "media": self.media + form.media,
            "has_view_permission": True,
        }
        return TemplateResponse(request, "admin/wildlife/animal/workflow.html", context)

    @admin.action(description=_("Move to another habitat"), permissions=["move"])
    def move_animals(self, request: HttpRequest, queryset: QuerySet[Animal]) -> None:
        """``services.animal_move`` for each chosen animal, to the habitat and with the reason
        chosen beside the action; the refused ones are named with the service's reason."""
        form = MoveActionForm(request.POST)
        form.is_valid()
        habitat = form.cleaned_data.get("habitat")
        reason = (form.cleaned_data.get("reason") or "").strip()
        if habitat is None or not reason:
            self.message_user(
                request, _("Choose the destination habitat and give the reason."), messages.ERROR
            )
            return
        actor = cast(User, request.user)
        moved = 0
        refused: Counter[str] = Counter()
        for animal in queryset.order_by("institutional_id", "id"):
            try:
                services.animal_move(actor=actor, animal=animal, habitat=habitat, reason=reason)
            except ServiceError as error:
                refused[f"{animal}: {error.message}"] += 1
            else:
                moved += 1
        if moved:
            self.message_user(
                request,
                ngettext(
                    "%(count)d animal moved to %(habitat)s.",
                    "%(count)d animals moved to %(habitat)s.",
                    moved,
                )
                % {"count": moved, "habitat": habitat},
                messages.SUCCESS,
            )
        for message in sorted(refused):
            self.message_user(
                request, _("Not moved: %(reason)s") % {"reason": message}, messages.ERROR
            )


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
