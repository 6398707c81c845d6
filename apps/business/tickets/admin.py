from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from apps.support.common.admin import BackOfficeAdmin, RecordAdmin
from apps.support.common.errors import ServiceError
from apps.support.security.models import User

from . import services
from .models import (
    CheckIn,
    Closure,
    OpeningSchedule,
    Reservation,
    Ticket,
    TicketType,
    TimeSlot,
)


def _actor(request: HttpRequest) -> User:
    """The signed-in member of staff (the back office admits nobody else)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


@admin.register(TicketType)
class TicketTypeAdmin(BackOfficeAdmin):
    """Prices and their categories. Never deleted (sold tickets refer to them): take one off
    sale with "on sale"."""

    list_display = (
        "code",
        "name_es",
        "name_en",
        "price",
        "currency",
        "min_quantity",
        "is_active",
        "valid_from",
        "valid_until",
        "display_order",
    )
    list_filter = ("is_active", "currency")
    search_fields = ("code", "name_es", "name_en")
    ordering = ("display_order", "id")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OpeningSchedule)
class OpeningScheduleAdmin(BackOfficeAdmin):
    """Shapes the slots generated from now on; slots already generated keep their capacity."""

    list_display = (
        "name",
        "valid_from",
        "valid_until",
        "weekdays",
        "opens_at",
        "closes_at",
        "slot_minutes",
        "capacity_per_slot",
    )
    list_filter = ("valid_from",)
    search_fields = ("name",)


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ("date", "reason")

    def clean_date(self) -> Any:
        day = self.cleaned_data["date"]
        try:
            services.plannable_day_check(day, field="date")
        except ServiceError as error:
            raise forms.ValidationError(str(error.message), code=error.code) from error
        return day


@admin.register(Closure)
class ClosureAdmin(BackOfficeAdmin):
    """Adding a closure closes that day's slots and deleting it reopens them (both audited,
    through the tickets services). To move a closure, delete it and add another."""

    list_display = ("date", "reason", "created_at")
    list_filter = ("date",)
    search_fields = ("reason",)
    date_hierarchy = "date"
    form = ClosureForm

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        # One by one, through closure_delete: the bulk action would skip the reopening.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request: HttpRequest, obj: Closure, form: Any, change: bool) -> None:
        if change:
            raise PermissionDenied
        closure = services.closure_create(actor=_actor(request), day=obj.date, reason=obj.reason)
        # The admin goes on with ``obj`` (history entry, redirect): make it the saved row.
        obj.pk = closure.pk
        obj.created_at, obj.updated_at = closure.created_at, closure.updated_at
        obj._state.adding = False
        obj._state.db = closure._state.db

    def delete_model(self, request: HttpRequest, obj: Closure) -> None:
        services.closure_delete(actor=_actor(request), closure=obj)


@admin.register(TimeSlot)
class TimeSlotAdmin(RecordAdmin):
    """Read-only here. Capacity and closing change through the API
    (``PATCH /api/v1/tickets/slots/{id}/``, ``services.slot_update``), which refuses a
    capacity below the seats sold and held and audits the change; slots are made by
    ``services.slots_generate`` from the opening schedules."""

    list_display = ("starts_at", "ends_at", "date", "capacity", "sold", "is_closed")
    list_filter = ("is_closed", "date")
    search_fields = ("date__exact",)  # e.g. 2026-05-12
    date_hierarchy = "starts_at"


@admin.register(Reservation)
class ReservationAdmin(RecordAdmin):
    """Seats held or confirmed by order lines; written by payments' order services."""

    list_display = ("order", "slot", "ticket_type", "quantity", "status", "expires_at")
    list_filter = ("status", "ticket_type", "slot__date")
    search_fields = ("order__code", "order__email")
    list_select_related = ("order", "slot", "ticket_type")
    date_hierarchy = "created_at"


@admin.register(Ticket)
class TicketAdmin(RecordAdmin):
    """Issued when an order is paid, voided when it is cancelled. Search by the secret (the
    middle part of the ticket's code) or by the order."""

    list_display = ("__str__", "order", "slot", "ticket_type", "status", "created_at")
    list_filter = ("status", "ticket_type", "slot__date")
    search_fields = ("=secret", "order__code", "order__email")
    list_select_related = ("order", "slot", "ticket_type")
    date_hierarchy = "created_at"


@admin.register(CheckIn)
class CheckInAdmin(RecordAdmin):
    """Accepted scans at the gates (``services.ticket_check_in``)."""

    list_display = ("ticket", "gate", "checked_in_at", "checked_in_by")
    list_filter = ("gate", "checked_in_at")
    search_fields = ("gate", "=ticket__secret", "ticket__order__code", "checked_in_by__email")
    list_select_related = ("ticket__ticket_type", "ticket__slot", "checked_in_by")
    date_hierarchy = "checked_in_at"
