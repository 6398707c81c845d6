"""Recompute every document version's SHA-256 from storage; report missing or damaged files,
and the stored files no version names."""

import sys
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from apps.business.documents import services
from apps.business.documents.models import DocumentVersion


class Command(BaseCommand):
    help = (
        "Read every stored document version, recompute its SHA-256 and report the files that "
        "are missing or whose checksum differs (exits with 1 when any is); then list the "
        "stored files no version names (orphans: a warning, deleted with --delete-orphans)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")
        parser.add_argument(
            "--delete-orphans",
            action="store_true",
            help=(
                "Delete the stored files no version names that were stored over "
                "--orphan-hours ago. Not after restoring an older database backup: its missing "
                "rows would make the newer files orphans."
            ),
        )
        parser.add_argument(
            "--orphan-hours",
            type=int,
            default=24,
            help="How old an orphan must be to be deleted (default 24: no upload is that slow).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["orphan_hours"] < 1:
            raise CommandError("--orphan-hours must be 1 or more.")
        total = DocumentVersion.objects.count()
        versions = DocumentVersion.objects.select_related("document").order_by("pk").iterator()
        problems = 0
        checked = 0
        with tqdm(
            services.versions_verify(versions),
            total=total,
            desc="Verifying",
            unit="file",
            disable=options["no_progress"] or not sys.stderr.isatty(),
            file=sys.stderr,
        ) as progress:
            for result in progress:
                checked += 1
                if result.state == services.VerifyState.OK:
                    continue
                problems += 1
                version = result.version
                where = (
                    f'document {version.document_id} "{version.document.title}" '
                    f"version {version.number} ({version.file.name})"
                )
                if result.state == services.VerifyState.MISSING:
                    self.stderr.write(f"MISSING  {where}")
                else:
                    self.stderr.write(
                        f"DAMAGED  {where}: SHA-256 {result.found_sha256}, "
                        f"expected {version.sha256}"
                    )
        self.stdout.write(f"{checked} versions checked, {problems} missing or damaged.")
        self.orphans(options)
        if problems:
            raise SystemExit(1)

    def orphans(self, options: dict[str, Any]) -> None:
        orphans = services.orphans_find()
        if not orphans:
            return
        for orphan in orphans:
            stored_at = timezone.localtime(orphan.stored_at)
            self.stderr.write(f"ORPHAN   {orphan.name} stored {stored_at:%Y-%m-%d %H:%M}")
        line = f"{len(orphans)} stored files no version names"
        if options["delete_orphans"]:
            hours = options["orphan_hours"]
            deleted = services.orphans_delete(orphans, older_than=timedelta(hours=hours))
            line += f", {deleted} stored over {hours} h ago deleted"
        self.stdout.write(line + ".")
