"""Reads of the payments module."""

from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from apps.support.common.statements import prefetched

from .models import (
    GatewayStatement,
    GatewayStatementLine,
    Order,
    OrderLine,
    Payment,
    Refund,
    RefundStatus,
    WebhookEvent,
    WebhookStatus,
)
from .reconciliation import reconciliation

__all__ = ["reconciliation"]  # the day's statements against the park's records


def _refunds() -> Prefetch:
    return Prefetch("refunds", queryset=Refund.objects.order_by("id"))


def order_list() -> QuerySet[Order]:
    return Order.objects.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch(
            "payments",
            queryset=Payment.objects.select_related("order")
            .prefetch_related(_refunds())
            .order_by("id"),
        ),
    )


def order_plain() -> QuerySet[Order]:
    return Order.objects.all()


def payment_list() -> QuerySet[Payment]:
    return Payment.objects.select_related("order").prefetch_related(_refunds())


def refund_list() -> QuerySet[Refund]:
    return Refund.objects.select_related("payment")


def statement_list() -> QuerySet[GatewayStatement]:
    return GatewayStatement.objects.all()


def statement_line_list() -> QuerySet[GatewayStatementLine]:
    return GatewayStatementLine.objects.select_related("statement")


def webhook_event_list() -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.defer("body")


def order_with_relations(order: Order, *, lines: list[OrderLine], payments: list[Payment]) -> Order:
    """``order`` with its lines and payments already at hand, as ``order_list`` would load
    them: a service that has just written them returns the order without reading it again."""
    for name, rows in (("lines", lines), ("payments", payments)):
        for row in rows:
            row.order = order
        prefetched(order, name, rows)
    return order


def _counted(queryset: QuerySet[Any], *fields: str) -> list[dict[str, Any]]:
    return list(queryset.order_by().values(*fields).annotate(count=Count("id")))


def order_counts() -> list[dict[str, Any]]:
    """Orders by status and channel (for the metrics)."""
    return _counted(Order.objects.all(), "status", "channel")


def payment_counts() -> list[dict[str, Any]]:
    """Payments by status and method (a failed payment may succeed later: a state, not an
    event)."""
    return _counted(Payment.objects.all(), "status", "method")


def refund_counts() -> list[dict[str, Any]]:
    return _counted(Refund.objects.all(), "status")


def webhook_event_counts() -> list[dict[str, Any]]:
    """Webhook deliveries by gateway and status (``failed``: to look at and replay)."""
    return _counted(WebhookEvent.objects.all(), "gateway", "status")


# Refunds finance still has to look at: asked for and not confirmed, or failed (to retry).
REFUNDS_WAITING = (RefundStatus.PENDING, RefundStatus.FAILED)


def webhook_events_failed() -> QuerySet[WebhookEvent]:
    """Deliveries that failed to process (to look at and replay), newest first."""
    return webhook_event_list().filter(status=WebhookStatus.FAILED).order_by("-received_at", "-id")


def refunds_waiting() -> QuerySet[Refund]:
    """Refunds pending at the gateway or failed, oldest first, with their order."""
    return (
        Refund.objects.filter(status__in=REFUNDS_WAITING)
        .select_related("payment__order")
        .order_by("created_at", "id")
    )
