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
        changed = services.publish_scheduled()
        self.stdout.write(f"{changed} exhibition(s) caught up with their schedule.")
