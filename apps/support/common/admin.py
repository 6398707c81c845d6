"""Back-office pieces shared by every module."""

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from apps.support.common.errors import ServiceError
from apps.support.common.images import checked_image
from apps.support.common.models import EmailDelivery
from apps.support.security.models import User


class RoleAccessMixin:
    """Who may view, add, change and delete a model in the back office: what the API lets
    them do with it, when the API lists it (the site's ``access``, ``config.admin``, reads the
    API's own permission classes); else the model permissions of their roles. Above this, an
    admin only narrows (records are never added, changed or deleted)."""

    admin_site: admin.AdminSite
    model: type[models.Model]

    def _access(self, request: HttpRequest, permission: str) -> bool | None:
        access = getattr(self.admin_site, "access", None)
        return None if access is None else access(request, self.model, permission)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = self._access(request, "view")
        if allowed is None:
            return super().has_view_permission(request, obj)  # type: ignore[misc]
        return allowed

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        allowed = self._access(request, "add")
        if allowed is None:
            return super().has_add_permission(request, *args)  # type: ignore[misc]
        return allowed

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = self._access(request, "change")
        if allowed is None:
            return super().has_change_permission(request, obj)  # type: ignore[misc]
        return allowed

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = self._access(request, "delete")
        if allowed is None:
            return super().has_delete_permission(request, obj)  # type: ignore[misc]
        return allowed

    def has_module_permission(self, request: HttpRequest) -> bool:
        # The roles' model permissions are no longer the whole story: a model the API lets a
        # role see is listed in its app even when the role holds no permission there.
        return super().has_module_permission(request) or any(  # type: ignore[misc]
            self.get_model_perms(request).values()  # type: ignore[attr-defined]
        )


class LabelledSplitDateTime(AdminSplitDateTime):
    """Django admin's date and time inputs, each with its own accessible name ("arrived at,
    date", "arrived at, time"): Django's widget writes "Date:" and "Time:" as plain text
    beside them, a label of neither, and the field's ``<label>`` names no input of the pair.
    ``label`` is the field's (``SplitDateTimeField`` sets it)."""

    label: Any = ""

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        names = (_("%(field)s, date"), _("%(field)s, time"))
        for subwidget, accessible_name in zip(context["widget"]["subwidgets"], names, strict=True):
            subwidget["attrs"]["aria-label"] = accessible_name % {"field": self.label}
        return context


class SplitDateTimeField(forms.SplitDateTimeField):
    """A date and a time in two labelled inputs (``LabelledSplitDateTime``): every date and
    time of the back office's forms, the models' (``BackOfficeAdmin``) and the workflows'."""

    widget = LabelledSplitDateTime

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.widget.label = self.label


class BackOfficeAdmin(RoleAccessMixin, admin.ModelAdmin):
    """The base of every ModelAdmin of the project."""

    formfield_overrides = {
        models.DateTimeField: {"form_class": SplitDateTimeField, "widget": LabelledSplitDateTime}
    }

    def response_action(
        self, request: HttpRequest, queryset: Any, *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        # Django filters the list by the ids as sent: one that is no id of the model
        # ("abc") would be a 500. Such a request selected nothing.
        try:
            for selected in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                self.model._meta.pk.to_python(selected)
        except ValidationError:
            self.message_user(request, _("No valid item was selected."), messages.WARNING)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset, *args, **kwargs)


class BackOfficeInline(RoleAccessMixin, admin.TabularInline):
    """The base of every inline of the project."""


class WorkflowPagesMixin:
    """An admin whose rows have workflow pages (cancel an order, move an animal) at
    ``<id>/<workflow>/``, named ``<app>_<model>_<workflow>``, each answered by
    ``workflow_view(request, object_id, workflow)`` behind the site's sign-in."""

    admin_site: admin.AdminSite
    opts: Any
    workflow_names: ClassVar[Iterable[str]] = ()

    def get_urls(self) -> list[URLPattern]:
        app, model = self.opts.app_label, self.opts.model_name
        pages = [
            path(
                f"<path:object_id>/{workflow}/",
                self.admin_site.admin_view(self.workflow_view),
                {"workflow": workflow},
                name=f"{app}_{model}_{workflow}",
            )
            for workflow in self.workflow_names
        ]
        return pages + super().get_urls()  # type: ignore[misc]

    def workflow_view(self, request: HttpRequest, object_id: str, workflow: str) -> HttpResponse:
        raise NotImplementedError


class RecordAdmin(BackOfficeAdmin):
    """For records (audit entries, payments, versions): visible, never added, changed or
    deleted in the back office."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceForm(forms.ModelForm):
    """A form whose save is a service call, made when every field is clean.

    ``write()`` calls the service and returns the row it wrote; a ``ServiceError`` (or the
    ``ValidationError`` of ``model_create``/``model_update``) becomes the form's error and the
    form is shown again, nothing written. The model's own validation is the service's: the
    instance is never filled in from the form (services compare against what is stored)."""

    actor: ClassVar[User]
    # Services' field names that this form shows under another name.
    field_names: ClassVar[Mapping[str, str]] = {}
    # The field a refusal without one belongs to, by its code.
    code_fields: ClassVar[Mapping[str, str]] = {}
    written = False

    @property
    def adding(self) -> bool:
        return self.instance.pk is None

    def submitted(self, names: Iterable[str]) -> dict[str, Any]:
        """The values of ``names`` to hand to a service: all of them for a new row, only
        those changed for a stored one (what somebody else changed meanwhile survives)."""
        return {
            name: self.cleaned_data[name]
            for name in names
            if name in self.cleaned_data and (self.adding or name in self.changed_data)
        }

    def write(self) -> models.Model:
        raise NotImplementedError

    def _post_clean(self) -> None:
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.instance = self.write()
        except ServiceError as error:
            field = error.field or self.code_fields.get(error.code, NON_FIELD_ERRORS)
            self._refuse({field: [str(error.message)]})
        except ValidationError as error:
            self._refuse(error.message_dict)
        else:
            self.written = True

    def _refuse(self, refusals: Mapping[str, list[str]]) -> None:
        for field, texts in refusals.items():
            name = self.field_names.get(field, field)
            for message in texts:
                self.add_error(name if name in self.fields else None, message)

    def save(self, commit: bool = True) -> Any:
        return self.instance  # written by the service in _post_clean


class CheckedImageForm(forms.ModelForm):
    """A form with an ``image`` field whose new picture is checked as the API checks it
    (``checked_image``): by its content, JPEG, PNG or WebP, at most
    ``SPECIES_IMAGE_MAX_BYTES``."""

    def clean_image(self) -> Any:
        image = self.cleaned_data["image"]
        if "image" in self.changed_data and image:
            try:
                image = checked_image(image, max_bytes=settings.SPECIES_IMAGE_MAX_BYTES)
            except ServiceError as error:
                raise forms.ValidationError(str(error.message), code=error.code) from error
        return image


class ServiceFormAdmin(BackOfficeAdmin):
    """A ModelAdmin whose forms are ``ServiceForm``: the admin itself saves nothing."""

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Saved by the form's service call already."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Not form.save_m2m(): the service wrote the relations (instructors' bookings).
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        # Shown again after the service wrote (an inline refused): undo the write, which
        # runs inside the admin's transaction.
        if getattr(context.get("adminform"), "form", None) and context["adminform"].form.written:
            transaction.set_rollback(True)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Other rows refer to these (sessions to programs, gifts to campaigns): they are
        # hidden, made inactive or cancelled instead.
        return False


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(RecordAdmin):
    """Emails tasks send once per key (the tickets of an order): sent or being sent, and how
    many attempts it took."""

    list_display = ("key", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status",)
    search_fields = ("key",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
