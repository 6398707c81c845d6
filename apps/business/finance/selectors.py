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

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from functools import reduce
from operator import itemgetter
from typing import Any, cast

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from apps.business.finance.models import TOTAL_FIELDS, SalesDay
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
    local_day,
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


def _sales_report(
    lines: QuerySet[OrderLine],
    *,
    period: Period,
    group_by: str,
    stored: Sequence[Mapping[str, Any]] = (),
) -> Report:
    """``lines`` (of the orders paid in some days of ``period``) per ``group_by``
    (``SALES_GROUPS``): ``orders`` (distinct), ``items`` (sum of quantities) and ``gross`` (sum
    of line totals); plus the ``stored`` totals of the other days (``sales_days_stored``)."""
    measures = _sales_measures()
    if group_by == "day":
        rows = rows_per_day(
            lines, moment="order__paid_at", measures=measures, period=period, zero=NO_SALES
        )
        rows = _plus_stored(rows, stored, key=lambda total: total["day"].isoformat())
    elif group_by == "channel":
        rows = rows_per_key(
            lines, key=F("order__channel"), measures=measures, label=_label(Channel)
        )
        rows = _plus_stored(rows, stored, key=itemgetter("channel"), label=_label(Channel))
    elif group_by == "gateway":
        rows = rows_per_key(
            _paying_method(lines), key=F("method"), measures=measures, label=_label(PaymentMethod)
        )
        label = _label(PaymentMethod)
        rows = _plus_stored(rows, stored, key=itemgetter("method"), label=label)
    elif group_by == "ticket_type":
        per_type = lines.values("kind", ticket_type=_ticket_type_of_line()).annotate(**measures)
        rows = _ticket_type_rows(_per_type_plus_stored(list(per_type), stored))
    else:
        raise ValueError(f"unknown group_by: {group_by}")
    if group_by == "ticket_type":  # an order of two types is in two rows, once in the totals
        totals = _summed([lines.aggregate(**measures), *stored], key=_whole, once=True)[""]
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


def sales_report(*, period: Period, group_by: str) -> Report:
    """Paid orders' lines of ``period`` per ``group_by`` (``SALES_GROUPS``): ``orders``
    (distinct), ``items`` (sum of quantities) and ``gross`` (sum of line totals).

    Days summarized (``SalesDay``: closed days, by ``services.sales_days_summarize``) are read
    from their stored totals, the others (today, a day not summarized yet) computed live from
    the records; the sum is what ``sales_report_live`` answers (tested)."""
    summarized, stored = sales_days_stored(period)
    live = _lines_of_days([day for day in period.days() if day not in summarized])
    return _sales_report(live, period=period, group_by=group_by, stored=stored)


def sales_report_live(*, period: Period, group_by: str) -> Report:
    """``sales_report`` computed from the records alone, whatever was summarized."""
    return _sales_report(_sold_lines(period), period=period, group_by=group_by)


def sales_days_stored(period: Period) -> tuple[set[date], list[dict[str, Any]]]:
    """The days of ``period`` summarized in the park's currency, and their stored totals (a
    day without sales has none): one query."""
    found = SalesDay.objects.filter(
        day__gte=period.date_from, day__lte=period.date_to, currency=park_currency()
    ).values("day", **{name: F(f"totals__{name}") for name in TOTAL_FIELDS})
    days, stored = set(), []
    for row in cast(Iterable[dict[str, Any]], found):
        days.add(row["day"])
        if row["kind"] is not None:
            stored.append(row)
    return days, stored


def sales_day_totals(days: Iterable[date]) -> list[dict[str, Any]]:
    """What ``SalesDayTotal`` holds for ``days``, from the records, with one aggregate query:
    the lines of the orders paid each local day per kind, ticket type, channel and gateway
    (the definitions of ``sales_report``), ``orders_once`` counting each order in the row of
    its first line only."""
    first_line = ~Exists(OrderLine.objects.filter(order=OuterRef("order"), pk__lt=OuterRef("pk")))
    per_group = (
        _paying_method(_lines_of_days(days))
        .values(  # type: ignore[misc]  # method: an annotation
            "kind",
            "method",
            day=local_day("order__paid_at"),
            ticket_type=_ticket_type_of_line(),
            channel=F("order__channel"),
        )
        .annotate(**_sales_measures(), orders_once=Count("pk", filter=first_line))
    )
    # Text on PostgreSQL (->>), SQLite's json_extract gives the number itself; a ticket line
    # without a ticket type is "" (as a line of another kind): one row per key, summed.
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for group in per_group:
        type_id = str(group["ticket_type"] or "")
        key = (group["day"], group["kind"], type_id, group["channel"], group["method"])
        row = rows.setdefault(
            key, {**dict(zip(STORED_KEYS, key, strict=True)), **NO_SALES, "orders_once": 0}
        )
        for measure in (*SALES_MEASURES, "orders_once"):
            row[measure] += group[measure]
    return list(rows.values())


def sales_days_missing(first: date, last: date) -> list[date]:
    """The days from ``first`` to ``last`` not summarized in the park's currency."""
    summarized = set(
        SalesDay.objects.filter(
            day__gte=first, day__lte=last, currency=park_currency()
        ).values_list("day", flat=True)
    )
    return [day for day in Period(first, last).days() if day not in summarized]


STORED_KEYS = ("day", "kind", "ticket_type", "channel", "method")


def _lines_of_days(days: Iterable[date]) -> QuerySet[OrderLine]:
    """``_sold_lines`` of the local ``days``: one range of moments per run of days in a row
    (the index on ``paid_at`` serves each)."""
    runs: list[Period] = []
    for day in sorted(set(days)):
        if runs and runs[-1].date_to + timedelta(days=1) == day:
            runs[-1] = Period(runs[-1].date_from, day)
        else:
            runs.append(Period(day, day))
    if not runs:
        return OrderLine.objects.none()
    return reduce(operator.or_, (_sold_lines(run) for run in runs))


def _whole(row: Mapping[str, Any]) -> str:
    return ""


def _summed(
    rows: Iterable[Mapping[str, Any]], *, key: Callable[[Mapping[str, Any]], Any], once: bool
) -> dict[Any, dict[str, Any]]:
    """The measures of ``rows`` summed per ``key(row)``. A stored total counts
    ``orders_once`` where each order must count once (per day, channel or gateway, and in the
    totals), ``orders`` per ticket type (its rows of other days, channels, gateways are other
    orders)."""
    summed: dict[Any, dict[str, Any]] = {}
    for row in rows:
        measures = summed.setdefault(key(row), dict(NO_SALES))
        measures["orders"] += row["orders_once"] if once and "orders_once" in row else row["orders"]
        measures["items"] += row["items"]
        measures["gross"] += row["gross"]
    return summed


def _plus_stored(
    rows: list[dict[str, Any]],
    stored: Sequence[Mapping[str, Any]],
    *,
    key: Callable[[Mapping[str, Any]], str],
    label: Callable[[str], str] = str,
) -> list[dict[str, Any]]:
    """``rows`` (computed live) plus the ``stored`` totals per ``key``, in the order of the
    keys; a key only stored is named by ``label``."""
    if not stored:
        return rows
    merged = {row["key"]: dict(row) for row in rows}
    for name, measures in _summed(stored, key=key, once=True).items():
        row = merged.setdefault(name, {"key": name, "label": label(name), **NO_SALES})
        for measure in SALES_MEASURES:
            row[measure] += measures[measure]
    return [merged[name] for name in sorted(merged)]


def _per_type_plus_stored(
    per_type: Sequence[Mapping[str, Any]], stored: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Per (kind, ticket type): the live ``per_type`` plus the ``stored`` totals."""
    summed = _summed(
        [*per_type, *stored],
        key=lambda row: (row["kind"], str(row["ticket_type"] or "")),
        once=False,
    )
    return [{"kind": kind, "ticket_type": type_id, **m} for (kind, type_id), m in summed.items()]


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
