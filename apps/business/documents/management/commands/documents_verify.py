"""Recompute every document version's SHA-256 from storage; report missing or damaged files."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from apps.business.documents import services
from apps.business.documents.models import DocumentVersion


class Command(BaseCommand):
    help = (
        "Read every stored document version, recompute its SHA-256 and report the files that "
        "are missing or whose checksum differs. Exits with 1 when any is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
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
        if problems:
            raise SystemExit(1)
