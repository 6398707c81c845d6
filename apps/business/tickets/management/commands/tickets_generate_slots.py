from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from apps.business.tickets.services import slots_generate


class Command(BaseCommand):
    help = (
        "Create the time slots of the coming days from the opening schedules (idempotent: "
        "existing slots and their sales are kept; closure days get none). Run it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=60, help="how many days (default 60)")
        parser.add_argument(
            "--start", type=date.fromisoformat, default=None, help="first day (default today)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        start = options["start"] or timezone.localdate()
        created = slots_generate(start=start, days=options["days"])
        self.stdout.write(f"{created} new slots from {start} over {options['days']} days.")
