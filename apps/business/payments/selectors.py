"""Reads of the payments module."""

from django.db.models import Prefetch, QuerySet

from .models import Order, OrderLine, Payment


def order_list() -> QuerySet[Order]:
    return Order.objects.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("payments", queryset=Payment.objects.select_related("order").order_by("id")),
    )


def order_plain() -> QuerySet[Order]:
    return Order.objects.all()


def payment_list() -> QuerySet[Payment]:
    return Payment.objects.select_related("order")


def order_with_relations(order: Order, *, lines: list[OrderLine], payments: list[Payment]) -> Order:
    """``order`` with its lines and payments already at hand, as ``order_list`` would load
    them: a service that has just written them returns the order without reading it again."""
    for payment in payments:
        payment.order = order
    order._prefetched_objects_cache = {"lines": lines, "payments": payments}  # type: ignore[attr-defined]
    return order
