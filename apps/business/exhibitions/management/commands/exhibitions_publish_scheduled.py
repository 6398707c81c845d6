"""Catch the exhibitions' rows up with scheduled (un)publications that have come due."""

from typing import Any

from django.core.management.base import BaseCommand

from apps.business.exhibitions import services


class Command(BaseCommand):
    help = (
        "Publish exhibition revisions whose scheduled time has come and unpublish those whose "
        "unpublication time has passed (the API shows them so already; this tidies the rows)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = services.publish_scheduled()
        self.stdout.write(
            f"{run.published} published, {run.unpublished} unpublished, "
            f"{run.skipped} skipped (in use, taken next run), {run.failed} failed (logged)."
        )
        if run.failed:
            raise SystemExit(1)
