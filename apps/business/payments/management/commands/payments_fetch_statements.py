from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.business.payments.services import statements_fetch


class Command(BaseCommand):
    help = (
        "Fetch every enabled gateway's statement of one of the park's days (default: "
        "yesterday) for reconciliation, replacing an earlier fetch of that day. A gateway that "
        "fails is recorded as failed; the others are stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="The park's local day, YYYY-MM-DD.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        day = today - timedelta(days=1)
        if options["date"]:
            try:
                day = date.fromisoformat(options["date"])
            except ValueError as error:
                raise CommandError("--date must be a day as YYYY-MM-DD.") from error
        if day > today:
            raise CommandError("--date must not be in the future.")
        failed = 0
        for statement in statements_fetch(day=day):
            self.stdout.write(
                f"{statement.gateway} {day}: {statement.status}, {statement.lines.count()} lines"
                + (f" ({statement.error})" if statement.error else "")
            )
            failed += statement.status != "ok"
        if failed:
            raise CommandError(f"{failed} gateway statement(s) could not be fetched.")
