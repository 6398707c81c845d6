"""What every report over a period of days shares: the period in the park's days, the local
day of a moment in SQL, the zero-filled series of days, and the report's shape.

A report covers whole days of the park's time zone (``settings.TIME_ZONE``): from the local
midnight that starts ``date_from`` to the one that ends ``date_to``. Its amounts are in the
park's currency (``settings.PAYMENTS_CURRENCY``). Finance's reports (sales, refunds) use these,
and so does any new one (donations, say): ``Period`` for its bounds, ``local_day`` to bucket by
day in SQL, ``zero_filled_days`` for a chart without gaps, and ``Report`` for what the API
serializes (``api.reports``) as JSON or CSV.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Expression, F, QuerySet
from django.db.models.functions import TruncDate

# The longest period a report covers: a whole (leap) year.
MAX_DAYS = 366
ZERO = Decimal("0.00")


def park_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def park_currency() -> str:
    return str(settings.PAYMENTS_CURRENCY)


@dataclass(frozen=True)
class Period:
    """Whole local days, ``date_from`` to ``date_to`` (both included)."""

    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        """The local midnight that starts ``date_from`` (included)."""
        return datetime.combine(self.date_from, time.min, tzinfo=park_zone())

    @property
    def end(self) -> datetime:
        """The local midnight that ends ``date_to`` (excluded)."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=park_zone())

    def days(self) -> Iterator[date]:
        day = self.date_from
        while day <= self.date_to:
            yield day
            day += timedelta(days=1)


def local_day(moment: str) -> Expression:
    """The park's calendar day of the date-time field ``moment``, computed by the database
    (``AT TIME ZONE`` on PostgreSQL, Django's time-zone function on SQLite)."""
    return TruncDate(moment, tzinfo=park_zone())


def rows_per_day(
    rows: QuerySet[Any],
    *,
    moment: str,
    measures: Mapping[str, Any],
    period: Period,
    zero: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """``measures`` (aggregates) of ``rows`` per local day of their ``moment``, one query,
    every day of ``period`` included (``zero`` where none of ``rows`` falls)."""
    per_day = rows.values(day=local_day(moment)).annotate(**measures)
    return zero_filled_days(per_day, period, zero)


def rows_per_key(
    rows: QuerySet[Any],
    *,
    key: Expression | F,
    measures: Mapping[str, Any],
    label: Callable[[str], str],
) -> list[dict[str, Any]]:
    """``measures`` (aggregates) of ``rows`` per value of ``key``, in the order of the keys,
    each named by ``label(key)``: one query."""
    per_key = rows.values(key=key).annotate(**measures).order_by("key")
    return [{**row, "label": label(row["key"])} for row in per_key]


def zero_filled_days(
    rows: Iterable[Mapping[str, Any]], period: Period, zero: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One row per day of ``period``, in order, keyed by the day (``key`` and ``label``,
    YYYY-MM-DD): the measures of the row of that ``day`` in ``rows`` where there is one, else
    ``zero`` (a day without sales is a day, not a gap in the chart)."""
    found = {row["day"]: row for row in rows}
    series = []
    for day in period.days():
        row = found.get(day, zero)
        measures = {name: row[name] for name in zero}
        series.append({"key": day.isoformat(), "label": day.isoformat(), **measures})
    return series


@dataclass
class Report:
    """What a report answers: its rows (``key``, ``label`` and the measures), the totals of
    the whole period, and what was asked."""

    period: Period
    group_by: str
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    currency: str = field(default_factory=park_currency)
