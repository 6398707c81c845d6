from collections import Counter
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.support.common.admin import BackOfficeInline, RecordAdmin
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
    Refund,
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


@admin.register(Order)
class OrderAdmin(RecordAdmin):
    """Orders are created, paid and cancelled through the API (payments services). The list
    shows what the ticket office looks for (code, state, channel, buyer's email, amount,
    when); the rest is on the order's page."""

    list_display = ("code", "status", "channel", "email", "amount", "created_at")
    list_filter = ("status", "channel", "currency", "created_at", "paid_at", "disputed_at")
    search_fields = ("code", "email", "user__email", "user__last_name")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    inlines = (OrderLineInline, PaymentInline)

    @admin.display(description=_("total"), ordering="total")
    def amount(self, order: Order) -> str:
        return f"{order.total} {order.currency}"

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # The model's help text of the hold speaks of an unpaid order: say what it means for
        # this one.
        if obj is not None:
            kwargs["help_texts"] = {"expires_at": HOLD_HELP[obj.status]}
        return super().get_form(request, obj, change=change, **kwargs)


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
