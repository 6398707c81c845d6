from collections import Counter
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.support.common.admin import BackOfficeInline, RecordAdmin, WorkflowPagesMixin
from apps.support.common.errors import ServiceError
from apps.support.security.models import User
from apps.support.security.roles import Role, has_any_role

from . import services
from .models import (
    GatewayStatement,
    GatewayStatementLine,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    Refund,
    RefundScope,
    RefundStatus,
    WebhookEvent,
    WebhookStatus,
)


class RecordInline(BackOfficeInline):
    """Rows of a record shown inside it: never added, changed or deleted here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(RecordInline):
    model = OrderLine
    fields = ("kind", "description", "unit_price", "quantity", "total", "reference")


class PaymentInline(RecordInline):
    model = Payment
    fields = (
        "method",
        "status",
        "amount",
        "currency",
        "gateway_reference",
        "capture_reference",
        "failure_code",
        "succeeded_at",
        "created_by",
    )
    show_change_link = True


# What the hold's moment means once the order is no longer pending.
HOLD_HELP = {
    OrderStatus.PENDING: _("Unpaid, its seats stop counting at this moment."),
    OrderStatus.PAID: _("Paid: its seats are confirmed; the hold no longer applies."),
    OrderStatus.EXPIRED: _("Not paid in time: its seats stopped counting at this moment."),
    OrderStatus.CANCELED: _("Cancelled: its seats were given back."),
}


class PaymentMethodFilter(admin.SimpleListFilter):
    """Orders by how they were paid (or tried to be): cash at the counter, Stripe..."""

    title = _("payment method")
    parameter_name = "paid_with"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return list(PaymentMethod.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() not in PaymentMethod.values:
            return queryset
        return queryset.filter(
            pk__in=Payment.objects.filter(method=self.value()).values("order_id")
        )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("Kept with the order and its refund (e.g. the visitor asked at the counter)."),
    )


# A refund's outcome, as the message after a cancellation or refund says it.
REFUND_OUTCOMES = {
    RefundStatus.SUCCEEDED: (
        messages.SUCCESS,
        _("Refund of %(amount)s %(currency)s succeeded."),
    ),
    RefundStatus.PENDING: (
        messages.WARNING,
        _("Refund of %(amount)s %(currency)s is pending: the gateway confirms it later."),
    ),
    RefundStatus.FAILED: (
        messages.ERROR,
        _(
            "Refund of %(amount)s %(currency)s failed (%(reason)s): finance asks the gateway "
            "again from the refunds list."
        ),
    ),
}


# The order's workflows of its page: title, what it does, the confirming button.
ORDER_WORKFLOWS = {
    "cancel": (
        _("Cancel order %(code)s"),
        _(
            "Its tickets are voided and their seats go back on sale; what was paid is "
            "refunded to where it was paid from (cash: give it back at the counter)."
        ),
        _("Yes, cancel the order"),
    ),
    "refund": (
        _("Refund order %(code)s"),
        _(
            "The whole order is refunded to where it was paid from: its tickets are voided, "
            "their seats go back on sale and the order is cancelled."
        ),
        _("Yes, refund the order"),
    ),
}


@admin.register(Order)
class OrderAdmin(WorkflowPagesMixin, RecordAdmin):
    """Orders are created, paid and cancelled through the payments services, as in the API.
    The list shows what the ticket office looks for (code, state, channel, buyer's email,
    amount, when); the rest is on the order's page, with its cancellation (ticket office,
    finance) and refund (finance): a confirmation page each, then the service."""

    workflow_names = tuple(ORDER_WORKFLOWS)

    list_display = ("code", "status", "channel", "email", "amount", "created_at")
    list_filter = (
        "status",
        "channel",
        PaymentMethodFilter,
        "created_at",
        "paid_at",
        "currency",
        "disputed_at",
    )
    search_fields = ("=code", "email", "user__email", "user__last_name")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    inlines = (OrderLineInline, PaymentInline)
    change_form_template = "admin/payments/order/change_form.html"

    @admin.display(description=_("total"), ordering="total")
    def amount(self, order: Order) -> str:
        return f"{order.total} {order.currency}"

    @admin.display(description=_("refunds"))
    def refunds_given(self, order: Order) -> Any:
        refunds = Refund.objects.filter(payment__order=order).order_by("created_at", "id")
        if not refunds:
            return _("None")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} {} · {} · {} · {}</li>",
                (
                    (
                        refund.amount,
                        refund.currency,
                        refund.get_status_display(),
                        refund.get_scope_display(),
                        refund.created_at.strftime("%Y-%m-%d %H:%M"),
                    )
                    for refund in refunds
                ),
            ),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and self._may_see(request, Refund):
            fields.append("refunds_given")
        return fields

    def _may_see(self, request: HttpRequest, model: type[Any]) -> bool:
        model_admin = self.admin_site._registry.get(model)
        return model_admin is not None and model_admin.has_view_permission(request)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # The model's help text of the hold speaks of an unpaid order: say what it means for
        # this one.
        if obj is not None:
            kwargs["help_texts"] = {"expires_at": HOLD_HELP[obj.status]}
        return super().get_form(request, obj, change=change, **kwargs)

    # --- Cancel and refund ------------------------------------------------------------------

    def may_cancel(self, request: HttpRequest, order: Order | None = None) -> bool:
        """Who sees every order cancels any of them, as in the API (``ORDER_STAFF``,
        administrators); the service applies the cancellation policy."""
        return self.has_view_permission(request, order)

    def may_refund(self, request: HttpRequest) -> bool:
        """Finance and administrators, as ``POST /api/v1/payments/orders/{id}/refunds/``."""
        return has_any_role(request.user, (Role.FINANCE,))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        order = self.get_object(request, object_id)
        context = {
            **(extra_context or {}),
            "may_cancel": order is not None
            and order.status in (OrderStatus.PENDING, OrderStatus.PAID)
            and self.may_cancel(request, order),
            "may_refund": order is not None
            and order.status == OrderStatus.PAID
            and self.may_refund(request),
        }
        return super().change_view(request, object_id, form_url, context)

    def workflow_view(self, request: HttpRequest, object_id: str, workflow: str) -> HttpResponse:
        """Cancel or refund an order: a confirmation page (as Django's delete confirmation),
        whose POST calls the service."""
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404
        what = workflow
        if what == "cancel":
            allowed, act = self.may_cancel(request, order), self._cancel
        else:
            allowed = self.has_view_permission(request, order) and self.may_refund(request)
            act = self._refund
        if not allowed:
            raise PermissionDenied
        title, explanation, button = ORDER_WORKFLOWS[what]
        form = CancelForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                act(request, order, form.cleaned_data["reason"])
            except ServiceError as error:
                self.message_user(request, str(error.message), messages.ERROR)
            return HttpResponseRedirect(
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[order.pk]
                )
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title % {"code": order.code},
            "order": order,
            "explanation": explanation,
            "button": button,
            "form": form,
            "lines": order.lines.all(),
        }
        return TemplateResponse(request, "admin/payments/order/confirm.html", context)

    def _cancel(self, request: HttpRequest, order: Order, reason: str) -> None:
        order = services.order_cancel(order=order, actor=self._actor(request), reason=reason)
        self.message_user(
            request, _("Order %(code)s cancelled.") % {"code": order.code}, messages.SUCCESS
        )
        for refund in Refund.objects.filter(
            payment__order=order, scope=RefundScope.CANCELLATION
        ).order_by("id"):
            self._tell_refund(request, refund)

    def _refund(self, request: HttpRequest, order: Order, reason: str) -> None:
        refund = services.refund_request(order=order, actor=self._actor(request), reason=reason)
        self._tell_refund(request, refund)

    def _tell_refund(self, request: HttpRequest, refund: Refund) -> None:
        level, text = REFUND_OUTCOMES[RefundStatus(refund.status)]
        self.message_user(
            request,
            text
            % {
                "amount": refund.amount,
                "currency": refund.currency,
                "reason": refund.failure_message,
            },
            level,
        )

    @staticmethod
    def _actor(request: HttpRequest) -> User:
        if not isinstance(request.user, User):
            raise PermissionDenied
        return request.user


@admin.register(OrderLine)
class OrderLineAdmin(RecordAdmin):
    list_display = ("order", "kind", "description", "unit_price", "quantity", "total")
    list_filter = ("kind", "order__status")
    search_fields = ("order__code", "description")
    list_select_related = ("order",)


class RefundInline(RecordInline):
    model = Refund
    fields = (
        "amount",
        "currency",
        "status",
        "scope",
        "gateway_reference",
        "reason",
        "failure_message",
        "created_at",
    )
    readonly_fields = ("created_at",)


@admin.register(Payment)
class PaymentAdmin(RecordAdmin):
    list_display = (
        "order",
        "method",
        "status",
        "amount",
        "currency",
        "gateway_reference",
        "created_at",
        "succeeded_at",
    )
    list_filter = ("method", "status", "currency", "created_at")
    search_fields = ("order__code", "order__email", "gateway_reference")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    inlines = (RefundInline,)


@admin.register(Refund)
class RefundAdmin(RecordAdmin):
    list_display = (
        "payment",
        "amount",
        "currency",
        "status",
        "scope",
        "reason",
        "created_at",
        "completed_at",
    )
    list_filter = ("status", "scope", "currency", "created_at")
    actions = ("try_again",)
    search_fields = ("payment__order__code", "gateway_reference", "payment__gateway_reference")
    list_select_related = ("payment__order", "created_by")
    date_hierarchy = "created_at"

    @admin.action(description=_("Ask the gateway again (failed refunds)"), permissions=["view"])
    def try_again(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        """The same service as ``POST /api/v1/payments/refunds/{id}/retry/``: the same
        idempotency key, never more than what is left to refund."""
        user = request.user
        if not isinstance(user, User) or not has_any_role(user, (Role.FINANCE,)):
            self.message_user(request, _("Only finance retries refunds."), messages.ERROR)
            return
        outcomes: Counter[str] = Counter()
        for refund in queryset.filter(status=RefundStatus.FAILED).order_by("id"):
            try:
                refund = services.refund_retry(refund=refund, actor=user)
            except ServiceError as error:
                outcomes[str(error.message)] += 1
            else:
                outcomes[refund.get_status_display()] += 1
        summary = ", ".join(f"{label}: {count}" for label, count in sorted(outcomes.items()))
        self.message_user(
            request,
            _("Refunds tried again: %(summary)s.") % {"summary": summary or "0"},
            messages.SUCCESS,
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(RecordAdmin):
    """Gateways' deliveries as received. "Process again" replays the selected ones (a
    settlement already applied changes nothing), e.g. after a gateway outage or a lock
    timeout left them failed."""

    list_display = (
        "received_at",
        "gateway",
        "event_type",
        "event_id",
        "gateway_reference",
        "status",
        "deliveries",
        "attempts",
        "processed_at",
    )
    list_filter = ("gateway", "status", "event_type", "received_at")
    search_fields = ("event_id", "gateway_reference", "event_type", "last_error")
    date_hierarchy = "received_at"
    actions = ("process_again",)

    @admin.action(description=_("Process again"), permissions=["view"])
    def process_again(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> None:
        outcomes: Counter[str] = Counter()
        for event in queryset.order_by("received_at", "id"):
            outcomes[services.webhook_event_process(event=event).status] += 1
        labels = dict(WebhookStatus.choices)
        summary = ", ".join(
            f"{labels[status]}: {count}" for status, count in sorted(outcomes.items())
        )
        total = sum(outcomes.values())
        self.message_user(
            request,
            ngettext(
                "Processed %(count)d event again (%(summary)s).",
                "Processed %(count)d events again (%(summary)s).",
                total,
            )
            % {"count": total, "summary": summary},
            messages.WARNING if outcomes[WebhookStatus.FAILED] else messages.SUCCESS,
        )


class GatewayStatementLineInline(RecordInline):
    model = GatewayStatementLine
    fields = (
        "kind",
        "reference",
        "gateway_reference",
        "capture_reference",
        "amount",
        "currency",
        "status",
        "occurred_at",
    )


@admin.register(GatewayStatement)
class GatewayStatementAdmin(RecordAdmin):
    """What each gateway stated of a day, as last fetched (the daily job, or finance's
    ``POST /api/v1/payments/reports/reconciliation/fetch/``). Read-only."""

    list_display = ("date", "gateway", "status", "fetched_at")
    list_filter = ("gateway", "status", "date")
    search_fields = ("gateway", "error")
    date_hierarchy = "date"
    inlines = (GatewayStatementLineInline,)


@admin.register(GatewayStatementLine)
class GatewayStatementLineAdmin(RecordAdmin):
    list_display = (
        "occurred_at",
        "statement",
        "kind",
        "reference",
        "capture_reference",
        "amount",
        "currency",
        "status",
    )
    list_filter = ("statement__gateway", "kind", "status", "statement__date")
    search_fields = ("reference", "gateway_reference", "capture_reference", "refund_reference")
    list_select_related = ("statement",)
