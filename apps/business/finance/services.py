"""Daily sales totals of closed days (docs/adr/0030): computed from the records with the
sales report's own definitions (``selectors.sales_day_totals``) and stored in one short
transaction, replacing what was stored for those days.

Only a day that has been over ``FINANCE_SUMMARY_LAG_MINUTES`` in the park's time zone is
summarized: its sales cannot change any more (an order's ``paid_at`` is set once, its lines
and the payment that paid it never change; refunds are reported on their own day). The sales
report reads the stored totals of summarized days and computes the others live.
"""

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.support.common.reports import Period, park_currency

from . import selectors
from .models import TOTAL_FIELDS, SalesDay, SalesDayTotal

logger = logging.getLogger(__name__)

# How far back the job looks for a closed day not summarized yet (after a longer outage: the
# ``finance_summarize`` command). Days not summarized are computed live meanwhile.
SUMMARY_DAYS_BACK = 7


def sales_day_closed(day: date, *, now: datetime | None = None) -> bool:
    """Whether the park's local ``day`` ended ``FINANCE_SUMMARY_LAG_MINUTES`` ago or more."""
    lag = timedelta(minutes=settings.FINANCE_SUMMARY_LAG_MINUTES)
    return Period(day, day).end + lag <= (now or timezone.now())


def sales_days_summarize(*, days: Iterable[date], now: datetime | None = None) -> list[date]:
    """Compute and store the sales totals of the closed ``days`` (one aggregate query), in
    place of those stored before; days not closed yet are left out. Returns the days
    summarized. Two runs over one day at the same moment (the job and the command): one of
    them fails on the unique day, the other's rows stay (the same totals: the day is over)."""
    now = now or timezone.now()
    closed = sorted(day for day in set(days) if sales_day_closed(day, now=now))
    if not closed:
        return []
    totals = selectors.sales_day_totals(closed)  # read before the transaction: it stays short
    currency = park_currency()
    with transaction.atomic():
        SalesDay.objects.filter(day__in=closed, currency=currency).delete()
        sales_days = SalesDay.objects.bulk_create(
            [SalesDay(day=day, currency=currency, computed_at=now) for day in closed]
        )
        of_day = {sales_day.day: sales_day for sales_day in sales_days}
        SalesDayTotal.objects.bulk_create(
            [SalesDayTotal(sales_day=of_day[total["day"]], **_stored(total)) for total in totals]
        )
    logger.info("Summarized the sales of %d day(s): %s..%s", len(closed), closed[0], closed[-1])
    return closed


def sales_days_summarize_missing(*, days_back: int, now: datetime | None = None) -> list[date]:
    """Summarize the closed days of the last ``days_back`` days (yesterday included) that are
    not summarized yet, one day at a time (each a short transaction)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first, last = today - timedelta(days=days_back), today - timedelta(days=1)
    done = []
    for day in selectors.sales_days_missing(first, last):
        done += sales_days_summarize(days=[day], now=now)
    return done


def _stored(total: dict[str, object]) -> dict[str, object]:
    return {name: total[name] for name in TOTAL_FIELDS}
