import time
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.business.finance.selectors import sales_days_missing
from apps.business.finance.services import (
    SUMMARY_DAYS_BACK,
    sales_day_closed,
    sales_days_summarize,
)
from apps.support.common.reports import Period


class Command(BaseCommand):
    help = (
        "Summarize the sales of closed days (daily totals read by the sales report): those "
        "from --from to --to (default: the last week) not summarized yet, or all of them with "
        "--rebuild (replacing what was stored). Days not over FINANCE_SUMMARY_LAG_MINUTES ago "
        "are left out."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="first", help="The first local day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="last", help="The last local day (default: yesterday).")
        parser.add_argument(
            "--rebuild", action="store_true", help="Summarize again days already summarized."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        yesterday = timezone.localdate() - timedelta(days=1)
        last = _day(options["last"], "--to") if options["last"] else yesterday
        first = _day(options["first"], "--from") if options["first"] else None
        first = first or min(last, yesterday) - timedelta(days=SUMMARY_DAYS_BACK - 1)
        if first > last:
            raise CommandError("--from must not be after --to.")
        days = list(Period(first, last).days())
        if not options["rebuild"]:
            days = sales_days_missing(first, last)
        open_days = [day for day in days if not sales_day_closed(day)]
        started, done = time.perf_counter(), 0
        for day in days:
            done += len(sales_days_summarize(days=[day]))
        seconds = time.perf_counter() - started
        per_day = f", {seconds / done * 1000:.0f} ms a day" if done else ""
        self.stdout.write(
            f"{done} day(s) summarized from {first} to {last} in {seconds:.1f} s{per_day}."
        )
        if open_days:
            self.stdout.write(
                f"{len(open_days)} day(s) not over FINANCE_SUMMARY_LAG_MINUTES ago left out "
                f"({open_days[0]}..{open_days[-1]})."
            )


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"{option} must be a day as YYYY-MM-DD.") from error
