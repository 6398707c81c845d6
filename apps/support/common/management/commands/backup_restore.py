"""``python manage.py backup_restore <folder>``: a backup into an empty database and empty
file folders, then checked (scripts/restore)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.support.common.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by backup_create into the empty database of DATABASE_URL and "
        "the empty media and documents folders, after checking every file's SHA-256; then "
        "compare every table's row count with the manifest and verify the audit chain. Exits "
        "non-zero when anything differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="The backup's folder.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            restored = backup_restore(options["folder"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        manifest = restored.manifest
        files = ", ".join(f"{name}: {count} files" for name, count in restored.files.items())
        self.stdout.write(
            f"Restored {len(manifest.data['tables'])} tables ({manifest.rows} rows, every "
            f"count as in the manifest); audit chain intact: {restored.audit_entries} entries"
            f"{'; ' + files if files else ''}. Backup of {manifest.data['created_at']}."
        )
