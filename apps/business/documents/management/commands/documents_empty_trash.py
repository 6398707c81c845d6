"""Delete for good the documents in the trash for over DOCUMENTS_TRASH_DAYS."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.business.documents import services


class Command(BaseCommand):
    help = (
        "Delete for good the documents deleted over DOCUMENTS_TRASH_DAYS days ago, and their "
        "files (documents in use by another transaction are skipped and taken next run)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = services.trash_empty()
        self.stdout.write(
            f"{run.purged} documents deleted for good ({len(run.files)} files), "
            f"{run.skipped} skipped (in use, taken next run); trash kept "
            f"{settings.DOCUMENTS_TRASH_DAYS} days."
        )
