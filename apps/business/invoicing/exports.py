"""Invoices and credit notes as CSV for the accountant: one row per document, oldest first.

Amounts are positive on both kinds, as stored: ``kind`` says that a credit note's are given
back (a sign would also make a spreadsheet read the cell as a formula, see ``csv_cell``).
"""

from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils import timezone

from apps.support.common.csv_export import csv_lines

from .models import Invoice

COLUMNS = (
    "number",
    "kind",
    "refers_to",
    "order",
    "issued_at",
    "buyer",
    "buyer_email",
    "buyer_tax_id",
    "currency",
    "net",
    "tax",
    "total",
)


def _row(invoice: Invoice) -> list[object]:
    return [
        invoice.number,
        invoice.kind,
        invoice.refers_to.number if invoice.refers_to is not None else "",
        invoice.order.code,
        timezone.localtime(invoice.issued_at).isoformat(),
        invoice.buyer_name,
        invoice.buyer_email,
        invoice.buyer_tax_id,
        invoice.currency,
        invoice.net,
        invoice.tax,
        invoice.total,
    ]


def invoices_csv(invoices: QuerySet[Invoice]) -> Iterator[str]:
    rows = invoices.select_related("order", "refers_to").iterator(chunk_size=2000)
    return csv_lines(COLUMNS, (_row(invoice) for invoice in rows))
