"""``python manage.py backup_create <folder>``: the database and the local files, with a
manifest (scripts/backup)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.support.common.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, or SQLite's online backup) and the local media and "
        "documents into a new folder, with manifest.json: every table's row count and the "
        "audit trail's last entry from the dump's own snapshot, and every file's SHA-256."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="A new (or empty) folder.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            manifest = backup_create(options["folder"])
        except BackupError as error:
            raise CommandError(str(error)) from error
        files = ", ".join(
            f"{name}: {part['count']} files" if "count" in part else f"{name}: {part['storage']}"
            for name, part in manifest.data["files"].items()
        )
        self.stdout.write(
            f"Backed up {len(manifest.data['tables'])} tables ({manifest.rows} rows), audit "
            f"trail to #{manifest.data['audit'].get('last_sequence', 0)}; {files}; "
            f"in {options['folder']}."
        )
