"""Finance reports, computed by the database: one aggregate query per report for its rows,
one for its totals, and one for the names of the ticket types in it (docs/adr/0030).

**Sales** are the lines of the orders paid in the period, on the local day they were paid
(``Order.paid_at``): an order cancelled or refunded later stays a sale of the day it was paid,
and what was given back is in the refunds report, on the day the gateway confirmed it. Gross
amounts: what buyers paid, before refunds (net of the period = sales gross - refunds amount).
**Refunds** are the refunds the gateway confirmed (``succeeded``), on the local day of
``completed_at``; pending and failed ones gave nothing back.

Both count only what is in the park's currency (``PAYMENTS_CURRENCY``: every order is).
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from apps.business.payments.models import (
    Channel,
    OrderLine,
    PaymentMethod,
    Refund,
    RefundStatus,
)
from apps.business.tickets import selectors as tickets
from apps.support.common.reports import (
    ZERO,
    Period,
    Report,
    park_currency,
    rows_per_day,
    rows_per_key,
)

SALES_GROUPS = ("day", "ticket_type", "channel", "gateway")
REFUND_GROUPS = ("day", "gateway")
TICKET_KIND = "ticket"
# Grouped by gateway, an order without the payment that paid it (made by hand) is here.
UNKNOWN = "unknown"


def _sold_lines(period: Period) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(
        order__paid_at__gte=period.start,
        order__paid_at__lt=period.end,
        order__currency=park_currency(),
    )


SALES_MEASURES = ("orders", "items", "gross")
NO_SALES: dict[str, Any] = {"orders": 0, "items": 0, "gross": ZERO}
NO_REFUNDS: dict[str, Any] = {"refunds": 0, "orders": 0, "amount": ZERO}


def _sales_measures() -> dict[str, Any]:
    return {
        "orders": Count("order", distinct=True),
        "items": Coalesce(Sum("quantity"), 0),
        "gross": Coalesce(Sum("total"), ZERO),
    }


def _label(choices: Any) -> Callable[[str], str]:
    """A group's name: the label of one of ``choices``, "Unknown", or the key itself."""

    def label(key: str) -> str:
        if key in choices.values:
            return str(choices(key).label)
        return _("Unknown") if key == UNKNOWN else key

    return label


def _paying_method(lines: QuerySet[OrderLine]) -> QuerySet[OrderLine]:
    """Each line with ``method``: that of the payment that paid its order, the one that
    succeeded at the moment the order was paid (the payment service sets both from one clock
    reading; a late second payment, refunded as unfulfillable, succeeded at another)."""
    return lines.annotate(
        paying=FilteredRelation(
            "order__payments",
            condition=Q(order__payments__succeeded_at=F("order__paid_at")),
        )
    ).annotate(method=Coalesce(F("paying__method"), Value(UNKNOWN)))


def _ticket_type_of_line() -> Case:
    """A ticket line's ticket type (``reference.ticket_type``, as text); "" for any other kind
    of line (enrollment, donation, whatever is sold next), grouped by its kind alone."""
    return Case(
        When(kind=TICKET_KIND, then=KeyTextTransform("ticket_type", "reference")),
        default=Value(""),
        output_field=CharField(),
    )


def sales_report(*, period: Period, group_by: str) -> Report:
    """Paid orders' lines of ``period`` per ``group_by`` (``SALES_GROUPS``): ``orders``
    (distinct), ``items`` (sum of quantities) and ``gross`` (sum of line totals)."""
    lines = _sold_lines(period)
    measures = _sales_measures()
    if group_by == "day":
        rows = rows_per_day(
            lines, moment="order__paid_at", measures=measures, period=period, zero=NO_SALES
        )
    elif group_by == "channel":
        rows = rows_per_key(
            lines, key=F("order__channel"), measures=measures, label=_label(Channel)
        )
    elif group_by == "gateway":
        rows = rows_per_key(
            _paying_method(lines), key=F("method"), measures=measures, label=_label(PaymentMethod)
        )
    elif group_by == "ticket_type":
        per_type = lines.values("kind", ticket_type=_ticket_type_of_line()).annotate(**measures)
        rows = _ticket_type_rows(list(per_type))
    else:
        raise ValueError(f"unknown group_by: {group_by}")
    if group_by == "ticket_type":  # an order of two types is in two rows, once in the totals
        totals = lines.aggregate(**measures)
    else:  # each order is in one row: its day, its channel, the payment that paid it
        totals = {name: sum((row[name] for row in rows), NO_SALES[name]) for name in NO_SALES}
    return Report(period=period, group_by=group_by, rows=rows, totals=totals)


def _ticket_type_rows(per_type: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Ticket types in the order the ticket office lists them, named in the request's
    language (one query for all of them); then the other kinds, by kind."""
    # Text on PostgreSQL (->>); SQLite's json_extract gives the number itself.
    per_type = [{**row, "ticket_type": str(row["ticket_type"] or "")} for row in per_type]
    ids = [int(row["ticket_type"]) for row in per_type if _is_id(row["ticket_type"])]
    types = {
        str(ticket_type.pk): ticket_type
        for ticket_type in tickets.ticket_type_list(on_sale_only=False).filter(pk__in=ids)
    }
    rows = []
    for row in per_type:
        kind, type_id = row["kind"], row["ticket_type"]
        measures = {name: row[name] for name in SALES_MEASURES}
        ticket_type = types.get(type_id) if kind == TICKET_KIND else None
        if ticket_type is not None:
            order = (0, ticket_type.display_order, ticket_type.pk, "")
            rows.append((order, {"key": type_id, "label": ticket_type.name, **measures}))
        else:
            rows.append(((1, 0, 0, kind), {"key": kind, "label": kind, **measures}))
    return [row for _order, row in sorted(rows, key=lambda pair: pair[0])]


def _is_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) < 19


def refunds_report(*, period: Period, group_by: str) -> Report:
    """Refunds the gateway confirmed in ``period``, per ``group_by`` (``REFUND_GROUPS``):
    ``refunds`` (how many), ``orders`` (distinct) and ``amount`` (given back)."""
    refunds = Refund.objects.filter(
        status=RefundStatus.SUCCEEDED,
        completed_at__gte=period.start,
        completed_at__lt=period.end,
        currency=park_currency(),
    )
    measures = {
        "refunds": Count("id"),
        "orders": Count("payment__order", distinct=True),
        "amount": Coalesce(Sum("amount"), ZERO),
    }
    if group_by == "day":
        rows = rows_per_day(
            refunds, moment="completed_at", measures=measures, period=period, zero=NO_REFUNDS
        )
    elif group_by == "gateway":
        rows = rows_per_key(
            refunds, key=F("payment__method"), measures=measures, label=_label(PaymentMethod)
        )
    else:
        raise ValueError(f"unknown group_by: {group_by}")
    totals = refunds.aggregate(**measures)
    return Report(period=period, group_by=group_by, rows=rows, totals=totals)
