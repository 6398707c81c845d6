"""Reads of the invoicing module."""

from django.db.models import QuerySet

from .models import Invoice


def invoice_list() -> QuerySet[Invoice]:
    return Invoice.objects.select_related("order", "refers_to")
