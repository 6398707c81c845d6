"""Writes of the documents module: folders, documents and their versions, downloads, share
links, the trash and the integrity check.

Storage is remote in production (S3), so it is never called inside a transaction or under a
row lock (docs/adr/0037): an upload is written to storage first under a fresh unique key, then
its version row is created in a short transaction; when that transaction fails the orphan
file is deleted after. Files leave storage only after the deletion of their rows commits; a
file left by a crash in between is found (and, on request, deleted) by ``documents_verify``.

Lock order: the document's row (or the share link's, or the folder's), then the audit chain
head (``audit.record`` is the last write of each transaction).
"""

from .documents import (
    LINK_FIELDS,
    document_create,
    document_download,
    document_restore,
    document_trash,
    document_update,
    lock_document,
    version_add,
    version_restore,
)
from .folders import FOLDER_FIELDS, folder_create, folder_delete, folder_update
from .housekeeping import (
    Orphan,
    TrashRun,
    VerifyResult,
    VerifyState,
    orphans_delete,
    orphans_find,
    trash_empty,
    version_text_extract,
    versions_verify,
)
from .sharing import (
    share_link_create,
    share_link_download,
    share_link_invalid,
    share_link_revoke,
)
from .storage import new_file_key

__all__ = [
    "FOLDER_FIELDS",
    "LINK_FIELDS",
    "Orphan",
    "TrashRun",
    "VerifyResult",
    "VerifyState",
    "document_create",
    "document_download",
    "document_restore",
    "document_trash",
    "document_update",
    "folder_create",
    "folder_delete",
    "folder_update",
    "lock_document",
    "new_file_key",
    "orphans_delete",
    "orphans_find",
    "share_link_create",
    "share_link_download",
    "share_link_invalid",
    "share_link_revoke",
    "trash_empty",
    "version_add",
    "version_restore",
    "version_text_extract",
    "versions_verify",
]
