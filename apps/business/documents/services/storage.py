"""The documents' storage: written before rows, deleted after them, never inside a
transaction (docs/adr/0037)."""

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from apps.support.common.locking import ensure_outside_transaction

from ..files import checked_upload, clean_filename
from ..models import (
    documents_storage,
)

logger = logging.getLogger(__name__)

# --- Storage ------------------------------------------------------------------------------


def new_file_key() -> str:
    """A key never used before (docs/adr/0037): the file of a failed upload or of a version
    never overwrites another's."""
    return f"{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


def store_file(file: IO[bytes]) -> str:
    """Write ``file`` to the documents' storage under a fresh key; outside any transaction."""
    ensure_outside_transaction("Writing a document to storage")
    file.seek(0)
    return documents_storage().save(new_file_key(), file)


def delete_files(names: Iterable[str]) -> None:
    """Remove stored files (after the rows that named them are gone); a failure is logged,
    and ``documents_verify`` lists the file as an orphan."""
    storage = documents_storage()
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.exception("Could not delete the stored document file %s", name)


@dataclass(frozen=True)
class Upload:
    """A checked upload, already in storage."""

    name: str
    filename: str
    sha256: str
    size: int
    content_type: str


def receive_upload(file: UploadedFile) -> Upload:
    original = file.name or ""
    sniffed, sha256, size = checked_upload(file)
    name = store_file(file)
    return Upload(
        name=name,
        filename=clean_filename(original, extension=sniffed.extension),
        sha256=sha256,
        size=size,
        content_type=sniffed.content_type,
    )
