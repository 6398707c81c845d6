import uuid
from datetime import date
from typing import Any, ClassVar, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.business.payments import admin as payments_admin
from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import COUNTER_METHODS, Channel, Order, PaymentMethod
from apps.support.common.admin import BackOfficeAdmin, RecordAdmin
from apps.support.common.errors import ConflictError, ServiceError
from apps.support.common.idempotency import (
    fingerprint,
    idempotency_key_claim,
    idempotency_key_finish,
)
from apps.support.security.models import User
from apps.support.security.roles import COUNTER_STAFF, has_any_role

from . import errors, selectors, services
from .models import (
    CheckIn,
    Closure,
    OpeningSchedule,
    Reservation,
    Ticket,
    TicketType,
    TimeSlot,
)
from .signing import secret_from_code, ticket_code


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
    """Issued when an order is paid, voided when it is cancelled. Search by the ticket's code
    (as scanned), its secret (the middle part of the code), the order's code or the buyer's
    email."""

    list_display = ("__str__", "order", "slot", "ticket_type", "status", "created_at")
    list_filter = ("status", "ticket_type", "slot__date")
    search_fields = ("=secret", "=order__code", "order__email")
    list_select_related = ("order", "slot", "ticket_type")
    date_hierarchy = "created_at"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Ticket], search_term: str
    ) -> tuple[QuerySet[Ticket], bool]:
        secret = secret_from_code(search_term)
        if secret is not None:  # a whole code, scanned or typed
            return queryset.filter(secret=secret), False
        return super().get_search_results(request, queryset, search_term)


# --- The gate: one scan, one answer -------------------------------------------------------


class ScanForm(forms.Form):
    code = forms.CharField(label=_("Ticket code"), max_length=200, strip=True)
    gate = forms.CharField(label=_("Gate"), max_length=64, strip=True)


# The answer to a refusal of ``ticket_check_in``, by its code: the word shown and its kind.
SCAN_REFUSALS = {
    errors.ALREADY_CHECKED_IN: (_("ALREADY USED"), "used"),
    errors.INVALID_CODE: (_("INVALID"), "invalid"),
    errors.UNKNOWN_TICKET: (_("INVALID"), "invalid"),
    errors.WRONG_DAY: (_("NOT TODAY"), "wrong-time"),
    errors.TOO_EARLY: (_("WRONG SLOT"), "wrong-time"),
    errors.SLOT_ENDED: (_("WRONG SLOT"), "wrong-time"),
    errors.TICKET_VOID: (_("VOID"), "void"),
}
GATE_SESSION_KEY = "tickets.gate"


class PageMixin:
    """A page of a model's admin for a task (``<page>/``), linked from its list for those who
    may use it."""

    page: ClassVar[str]
    page_label: ClassVar[Any]
    admin_site: admin.AdminSite
    opts: Any

    def may_use_page(self, request: HttpRequest) -> bool:
        raise NotImplementedError

    def page_view(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if self.may_use_page(request):
            url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{self.page}")
            extra_context = {**(extra_context or {}), "page": (url, self.page_label)}
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_{self.page}"
        view = self.admin_site.admin_view(self.page_view)
        return [path(f"{self.page}/", view, name=name), *super().get_urls()]  # type: ignore[misc]


@admin.register(CheckIn)
class CheckInAdmin(PageMixin, RecordAdmin):
    """Accepted scans at the gates (``services.ticket_check_in``), and the gate's scanning
    page (``scan/``): whoever the API lets check in (``POST /api/v1/tickets/check-ins/``)."""

    list_display = ("ticket", "gate", "checked_in_at", "checked_in_by")
    list_filter = ("gate", "checked_in_at")
    search_fields = ("gate", "=ticket__secret", "ticket__order__code", "checked_in_by__email")
    list_select_related = ("ticket__ticket_type", "ticket__slot", "checked_in_by")
    date_hierarchy = "checked_in_at"
    change_list_template = "admin/tickets/page_change_list.html"
    page = "scan"
    page_label = _("Scan tickets at the gate")

    def may_use_page(self, request: HttpRequest) -> bool:
        return bool(self._access(request, "add"))

    def page_view(self, request: HttpRequest) -> HttpResponse:
        """One POST per scan: the answer on the same page, the field empty for the next."""
        if not self.may_use_page(request):
            raise PermissionDenied
        gate = request.session.get(GATE_SESSION_KEY, "")
        answer: dict[str, Any] | None = None
        form = ScanForm(initial={"gate": gate})
        if request.method == "POST":
            submitted = ScanForm(request.POST)
            if submitted.is_valid():
                gate = submitted.cleaned_data["gate"]
                request.session[GATE_SESSION_KEY] = gate
                answer = self._scan(request, submitted.cleaned_data["code"], gate)
                form = ScanForm(initial={"gate": gate})
            else:
                form = submitted
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Gate check-in"),
            "form": form,
            "answer": answer,
        }
        return TemplateResponse(request, "admin/tickets/checkin/scan.html", context)

    def _scan(self, request: HttpRequest, code: str, gate: str) -> dict[str, Any]:
        try:
            check_in = services.ticket_check_in(code=code, gate=gate, actor=_actor(request))
        except ServiceError as error:
            word, kind = SCAN_REFUSALS.get(error.code, (_("REFUSED"), "invalid"))
            return {"word": word, "kind": kind, "detail": str(error.message), "code": code}
        ticket = check_in.ticket
        return {
            "word": _("VALID"),
            "kind": "valid",
            "detail": _("%(type)s · %(slot)s · admitted at %(time)s")
            % {
                "type": ticket.ticket_type,
                "slot": _slot_label(ticket.slot),
                "time": timezone.localtime(check_in.checked_in_at).strftime("%H:%M:%S"),
            },
            "code": code,
        }


def _slot_label(slot: TimeSlot) -> str:
    """The slot in the park's time: "2026-05-12 10:00-10:30"."""
    starts, ends = timezone.localtime(slot.starts_at), timezone.localtime(slot.ends_at)
    return f"{starts:%Y-%m-%d %H:%M}-{ends:%H:%M}"


# --- The counter: one submit sells ----------------------------------------------------------


class CounterSaleForm(forms.Form):
    """A sale at the ticket office: a slot, how many of each ticket type, how it is paid."""

    slot = forms.ModelChoiceField(queryset=TimeSlot.objects.all(), label=_("Time slot"))
    email = forms.EmailField(
        label=_("Email"), required=False, help_text=_("Where the tickets go (optional).")
    )
    method = forms.ChoiceField(
        label=_("Payment"),
        choices=[(method, PaymentMethod(method).label) for method in COUNTER_METHODS],
        widget=forms.RadioSelect,
        initial=PaymentMethod.CASH,
    )
    # The sale's one-time key, new on each page shown: the same sale submitted twice (the
    # button pressed twice, the page sent again) is sold once, as the API's Idempotency-Key.
    sale_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=200)

    def __init__(self, *args: Any, day: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sale_key"].initial = uuid.uuid4().hex
        # Offered: the day's slots with seats left. Any slot is accepted: whether it can
        # still be sold is the service's to say (a slot that sold out meanwhile, a closure).
        offered = selectors.slot_availability(date_from=day, date_to=day).filter(bookable=True)
        self.fields["slot"].widget.choices = [("", "---------")] + [
            (
                slot.pk,
                _("%(slot)s (%(seats)d seats left)")
                % {"slot": _slot_label(slot), "seats": slot.remaining},
            )
            for slot in offered
        ]
        self.ticket_types = list(
            selectors.ticket_type_list(on_sale_only=True).order_by("display_order", "id")
        )
        for ticket_type in self.ticket_types:
            self.fields[f"quantity_{ticket_type.pk}"] = forms.IntegerField(
                label=f"{ticket_type.name} ({ticket_type.price} {ticket_type.currency})",
                min_value=0,
                max_value=1000,
                initial=0,
                required=False,
            )

    def refuse(self, error: ServiceError) -> None:
        """The service's refusal, next to its field when it names one of the form's."""
        self.add_error(error.field if error.field in self.fields else None, str(error.message))

    def renew_key(self) -> None:
        """A new key for the page shown again (its sale was refused: a corrected one is
        another sale)."""
        data = cast(QueryDict, self.data).copy()
        data["sale_key"] = uuid.uuid4().hex
        self.data = data

    def request_fingerprint(self, path: str) -> str:
        """What was asked, but the key and the CSRF token."""
        data = cast(QueryDict, self.data)
        asked = {
            name: data.getlist(name)
            for name in sorted(data)
            if name not in ("sale_key", "csrfmiddlewaretoken")
        }
        return fingerprint(method="POST", path=path, body=asked)

    def quantity_fields(self) -> list[Any]:
        return [self[f"quantity_{ticket_type.pk}"] for ticket_type in self.ticket_types]

    def lines(self) -> list[LineRequest]:
        slot = self.cleaned_data["slot"]
        wanted = [
            (ticket_type, self.cleaned_data.get(f"quantity_{ticket_type.pk}") or 0)
            for ticket_type in self.ticket_types
        ]
        return [
            LineRequest(
                kind="ticket",
                quantity=quantity,
                fields={"slot": slot.pk, "ticket_type": ticket_type.pk},
                index=index,
            )
            for index, (ticket_type, quantity) in enumerate(
                (ticket_type, quantity) for ticket_type, quantity in wanted if quantity
            )
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "slot" in cleaned and not self.lines():
            raise forms.ValidationError(_("Choose how many tickets of at least one type."))
        return cleaned


class DayForm(forms.Form):
    date = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))


class TicketInline(payments_admin.RecordInline):
    model = Ticket
    fields = ("code", "ticket_type", "slot", "status", "checked_in")
    readonly_fields = fields

    @admin.display(description=_("code"))
    def code(self, ticket: Ticket) -> str:
        return ticket_code(ticket.secret)

    @admin.display(description=_("checked in"))
    def checked_in(self, ticket: Ticket) -> str:
        check_in = getattr(ticket, "check_in", None)
        if check_in is None:
            return "—"
        return f"{timezone.localtime(check_in.checked_in_at):%Y-%m-%d %H:%M} · {check_in.gate}"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        return super().get_queryset(request).select_related("ticket_type", "slot", "check_in")


admin.site.unregister(Order)


@admin.register(Order)
class OrderAdmin(PageMixin, payments_admin.OrderAdmin):
    """Payments' orders, with their tickets, and the ticket office's counter sale
    (``sell/``): it sells through ``payments.order_buy`` as ``POST /api/v1/payments/orders/``
    with ``channel: counter`` and ``pay: cash | card_present`` does."""

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [*super().get_inlines(request, obj), TicketInline]

    change_list_template = "admin/tickets/page_change_list.html"
    page = "sell"
    page_label = _("Sell at the counter")

    def may_use_page(self, request: HttpRequest) -> bool:
        """The roles the service lets sell at the counter."""
        return has_any_role(request.user, COUNTER_STAFF)

    def page_view(self, request: HttpRequest) -> HttpResponse:
        if not self.may_use_page(request):
            raise PermissionDenied
        day_form = DayForm(request.GET or None)
        day = day_form.cleaned_data["date"] if day_form.is_valid() else timezone.localdate()
        if not day_form.is_bound:
            day_form = DayForm(initial={"date": day})
        if request.method == "POST":
            form = CounterSaleForm(request.POST, day=day)
            if form.is_valid():
                order = self._sell(request, form)
                if order is not None:
                    url = reverse("admin:payments_order_sell")
                    return HttpResponseRedirect(f"{url}?date={day.isoformat()}&sold={order.pk}")
                form.renew_key()
        else:
            form = CounterSaleForm(day=day)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Sell at the counter"),
            "day_form": day_form,
            "form": form,
            "sold": self._sold(request),
        }
        return TemplateResponse(request, "admin/tickets/order/sell.html", context)

    def _sell(self, request: HttpRequest, form: CounterSaleForm) -> Order | None:
        """Sell once per sale key: a key already answered gives its order (or its refusal)
        again; the key is claimed and kept as ``POST /api/v1/payments/orders/`` keeps its
        Idempotency-Key (``apps.support.common.idempotency``)."""
        actor = _actor(request)
        key = form.cleaned_data["sale_key"]
        if not key:  # a form sent without its key (not the page's): sold as it comes
            try:
                return self._buy(actor, form)
            except ServiceError as error:
                form.refuse(error)
                return None
        key = f"counter-sale:{key}"
        try:
            replay = idempotency_key_claim(
                user_id=actor.pk,
                key=key,
                request_fingerprint=form.request_fingerprint(request.path),
            )
        except ServiceError as error:
            form.refuse(error)
            return None
        if replay is not None:
            if "order" in replay.body:
                return Order.objects.get(pk=replay.body["order"])
            form.add_error(None, replay.body["detail"])
            return None
        try:
            order = self._buy(actor, form)
        except ServiceError as error:
            form.refuse(error)
            status_code = 409 if isinstance(error, ConflictError) else 400
            body = {"code": error.code, "detail": str(error.message)}
            idempotency_key_finish(user_id=actor.pk, key=key, status_code=status_code, body=body)
            return None
        except BaseException:
            idempotency_key_finish(user_id=actor.pk, key=key, status_code=500, body=None)
            raise
        idempotency_key_finish(user_id=actor.pk, key=key, status_code=201, body={"order": order.pk})
        return order

    @staticmethod
    def _buy(actor: User, form: CounterSaleForm) -> Order:
        return payments.order_buy(
            actor=actor,
            lines=form.lines(),
            method=form.cleaned_data["method"],
            channel=Channel.COUNTER,
            email=form.cleaned_data["email"],
        ).order

    def _sold(self, request: HttpRequest) -> dict[str, Any] | None:
        """The order just sold (``?sold=<id>``): its code, tickets and total."""
        order_id = request.GET.get("sold", "")
        if not order_id.isdigit():
            return None
        order = Order.objects.filter(pk=int(order_id), channel=Channel.COUNTER).first()
        if order is None:
            return None
        tickets = (
            Ticket.objects.filter(order=order).select_related("ticket_type", "slot").order_by("id")
        )
        return {
            "order": order,
            "tickets": [
                {
                    "pk": ticket.pk,
                    "code": ticket_code(ticket.secret),
                    "type": ticket.ticket_type.name,
                    "slot": _slot_label(ticket.slot),
                }
                for ticket in tickets
            ],
            "payments": list(order.payments.all()),
        }
