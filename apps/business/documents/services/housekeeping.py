"""Background and operator work: PDF text for search, emptying the trash, the
integrity check."""

import logging
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.support.audit import services as audit
from apps.support.common.locking import ensure_outside_transaction, lock_row_if_free
from apps.support.common.text import search_key

from ..files import PDF, sha256_of
from ..models import (
    Document,
    DocumentVersion,
    documents_storage,
)
from .storage import delete_files

logger = logging.getLogger(__name__)

# --- PDF text -----------------------------------------------------------------------------


def version_text_extract(*, version_id: int) -> bool:
    """Read a PDF version's text (outside any transaction: storage may be remote) and keep it
    for search; idempotent (a version already read is skipped). Returns whether it read."""
    from ..files import pdf_text

    version = DocumentVersion.objects.filter(pk=version_id).first()
    if version is None or version.text_extracted_at is not None or version.content_type != PDF:
        return False
    ensure_outside_transaction("Reading a document from storage")
    try:
        with documents_storage().open(str(version.file.name), "rb") as stored:
            text = pdf_text(stored, limit=settings.DOCUMENTS_MAX_TEXT_CHARS)
    except FileNotFoundError:
        logger.warning("Document version %s has no file in storage", version_id)
        return False
    # Only the version's own row is written: the document's row (locked by uploads) is never
    # waited for; search reads the text of the document's current version.
    written = DocumentVersion.objects.filter(pk=version_id, text_extracted_at__isnull=True).update(
        text=search_key(text), text_extracted_at=timezone.now()
    )
    return bool(written)


# --- The trash ----------------------------------------------------------------------------


@dataclass
class TrashRun:
    purged: int = 0
    skipped: int = 0  # in use by another transaction right now: taken next run
    files: list[str] = field(default_factory=list)


def trash_empty(*, now: Any = None) -> TrashRun:
    """Delete for good the documents in the trash for over DOCUMENTS_TRASH_DAYS, each in
    its own transaction under its row lock (skipped, never waited for, when in use: SKIP
    LOCKED); their files are deleted from storage after the deletion commits."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DOCUMENTS_TRASH_DAYS)
    run = TrashRun()
    due = Document.objects.filter(deleted_at__lt=cutoff).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            document = lock_row_if_free(Document.objects.filter(pk=pk, deleted_at__lt=cutoff))
            if document is None:
                if Document.objects.filter(pk=pk, deleted_at__lt=cutoff).exists():
                    run.skipped += 1
                continue
            names = list(document.versions.values_list("file", flat=True))
            audit.record(
                action="documents.document.purged",
                actor=audit.SYSTEM,
                target=document,
                metadata={
                    "title": document.title,
                    "deleted_at": document.deleted_at.isoformat() if document.deleted_at else None,
                    "versions": len(names),
                },
            )
            Document.objects.filter(pk=pk).update(current_version=None)
            document.delete()
            transaction.on_commit(lambda names=names: delete_files(names))  # type: ignore[misc]
        run.purged += 1
        run.files += names
    return run


# --- Integrity ----------------------------------------------------------------------------


class VerifyState:
    OK = "ok"
    MISSING = "missing"
    DAMAGED = "damaged"


@dataclass(frozen=True)
class VerifyResult:
    version: DocumentVersion
    state: str
    found_sha256: str = ""


def versions_verify(
    versions: Iterable[DocumentVersion] | None = None,
) -> Iterator[VerifyResult]:
    """Recompute each version's SHA-256 from storage: ``ok``, ``missing`` or ``damaged``.
    Reads storage, so it runs outside any transaction."""
    ensure_outside_transaction("Verifying documents in storage")
    storage = documents_storage()
    if versions is None:
        versions = DocumentVersion.objects.select_related("document").order_by("pk").iterator()
    for version in versions:
        try:
            with storage.open(str(version.file.name), "rb") as stored:
                found = sha256_of(stored)
        except FileNotFoundError:
            yield VerifyResult(version, VerifyState.MISSING)
            continue
        except Exception as error:
            if _is_missing(error):
                yield VerifyResult(version, VerifyState.MISSING)
                continue
            raise
        state = VerifyState.OK if found == version.sha256 else VerifyState.DAMAGED
        yield VerifyResult(version, state, found)


def _is_missing(error: Exception) -> bool:
    """S3's "no such key" (botocore's ClientError with a 404), however storages wraps it."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        code = str(response.get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}
    return False


# --- Files no version names ---------------------------------------------------------------


@dataclass(frozen=True)
class Orphan:
    """A stored file that no version names: left by an upload interrupted between storing
    its file and committing its row, or by a deletion from storage that failed."""

    name: str
    stored_at: datetime


def _stored_names(storage: Any, path: str = "") -> Iterator[str]:
    try:
        folders, files = storage.listdir(path)
    except FileNotFoundError:  # a local root never written to
        return
    for name in files:
        yield posixpath.join(path, name) if path else name
    for folder in folders:
        yield from _stored_names(storage, posixpath.join(path, folder) if path else folder)


def orphans_find() -> list[Orphan]:
    """Every stored file no version names, oldest first. Storage is listed before the names
    are read, so a version committed meanwhile is not taken for an orphan; an upload whose row
    has not committed yet is one for a moment, hence the grace of ``orphans_delete``."""
    ensure_outside_transaction("Listing the documents' storage")
    storage = documents_storage()
    stored = set(_stored_names(storage))
    named = set(DocumentVersion.objects.values_list("file", flat=True))
    orphans = [Orphan(name, storage.get_modified_time(name)) for name in stored - named]
    return sorted(orphans, key=lambda orphan: (orphan.stored_at, orphan.name))


def orphans_delete(orphans: Iterable[Orphan], *, older_than: timedelta, now: Any = None) -> int:
    """Delete the orphans stored longer than ``older_than`` ago (an upload in progress is
    never that old), after checking again that no version names them. Returns how many."""
    cutoff = (now or timezone.now()) - older_than
    due = [orphan.name for orphan in orphans if orphan.stored_at < cutoff]
    if not due:
        return 0
    named = set(DocumentVersion.objects.filter(file__in=due).values_list("file", flat=True))
    names = [name for name in due if name not in named]
    delete_files(names)
    with transaction.atomic():
        audit.record(
            action="documents.orphans.deleted",
            actor=audit.SYSTEM,
            target_type="documents.storage",
            metadata={"files": len(names), "older_than_hours": older_than / timedelta(hours=1)},
        )
    logger.info("Deleted %d stored document files no version named", len(names))
    return len(names)
