"""Reads of the payments module."""

from django.db.models import Prefetch, QuerySet

from .models import Order, OrderLine, Payment


def order_list() -> QuerySet[Order]:
    return Order.objects.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("payments", queryset=Payment.objects.select_related("order").order_by("id")),
    )


def payment_list() -> QuerySet[Payment]:
    return Payment.objects.select_related("order")
