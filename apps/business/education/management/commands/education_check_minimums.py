from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from apps.business.education.services.housekeeping import minimums_check
from apps.business.education.services.seats import session_label


class Command(BaseCommand):
    help = (
        "List the scheduled sessions whose enrolment closed below the program's minimum, for "
        "staff to decide whether they run. With --alert, educators are emailed (once per "
        "session), as the education.check_minimums task does."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--alert", action="store_true", help="Email the educators too.")

    def handle(self, *args: Any, **options: Any) -> None:
        sessions = minimums_check(alert=options["alert"])
        for session in sessions:
            self.stdout.write(
                f"{session.pk}\t{timezone.localtime(session.starts_at):%Y-%m-%d %H:%M}\t"
                f"{session.confirmed}/{session.program.min_participants}\t{session_label(session)}"
            )
        self.stdout.write(f"{len(sessions)} sessions below their minimum.")
