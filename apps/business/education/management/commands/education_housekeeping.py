from typing import Any

from django.core.management.base import BaseCommand

from apps.business.education.services.housekeeping import reminders_send, waitlists_settle


class Command(BaseCommand):
    help = (
        "What the education.settle_waitlists and education.send_reminders tasks do, for cron: "
        "pass unanswered offers on (and email the new ones), finish cancelled sessions' "
        "refunds, queue the reminders of tomorrow's sessions (each once). Every 5 minutes."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = waitlists_settle()
        reminders = reminders_send()
        self.stdout.write(
            f"{run.offered} offers made, {run.cancellations_finished} cancelled enrollments "
            f"refunded, {run.skipped} skipped (in use, taken next run), {reminders} reminders "
            "queued."
        )
