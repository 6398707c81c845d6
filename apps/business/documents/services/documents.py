"""Documents and their versions: upload, metadata, restore, the trash, downloads."""

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError
from apps.support.common.locking import ensure_outside_transaction, lock_rows
from apps.support.common.text import search_key

from .. import errors
from ..files import PDF, sha256_of
from ..models import (
    AccessChannel,
    Document,
    DocumentAccess,
    DocumentVersion,
    Folder,
    ShareLink,
    Tag,
    documents_storage,
)
from .folders import check_folder_visible
from .storage import Upload, delete_files, receive_upload, store_file

logger = logging.getLogger(__name__)

LINK_FIELDS = ("animals", "species", "habitats", "exhibitions", "programs")

# --- Documents and versions ---------------------------------------------------------------


def _tags(names: Iterable[str]) -> list[Tag]:
    tags = []
    for name in sorted({" ".join(name.split()).lower()[:50] for name in names} - {""}):
        tag, _created = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    return tags


def _search_text(document: Document, filename: str | None = None) -> str:
    tags = [tag.name for tag in document.tags.all()]
    if filename is None:
        filename = document.current_version.filename if document.current_version else ""
    return search_key(document.title, document.description, *tags, filename)


def _extract_later(version: DocumentVersion) -> None:
    if version.content_type == PDF and version.text_extracted_at is None:
        from ..tasks import extract_text

        pk = version.pk
        transaction.on_commit(lambda: extract_text.delay(pk))


def lock_document(document: Document) -> Document:
    """The document's row, locked until the transaction ends: its versions are numbered one
    after the other."""
    return lock_rows(Document.objects.filter(pk=document.pk), no_key=True)[0]


def next_version_number(document: Document) -> int:
    """Read under the document's lock: the number the next version takes."""
    return document.version_count + 1


def _add_version(
    *,
    actor: Any,
    document: Document,
    upload: Upload,
    note: str,
    restored_from: DocumentVersion | None = None,
) -> DocumentVersion:
    """Inside the caller's transaction, with the document locked."""
    number = next_version_number(document)
    version = DocumentVersion.objects.create(
        document=document,
        number=number,
        file=upload.name,
        filename=upload.filename,
        sha256=upload.sha256,
        size=upload.size,
        content_type=upload.content_type,
        note=note,
        uploaded_by=actor,
        restored_from=restored_from,
        text=restored_from.text if restored_from is not None else "",
        text_extracted_at=restored_from.text_extracted_at if restored_from is not None else None,
    )
    document.current_version = version
    document.version_count = number
    document.search_text = _search_text(document, upload.filename)
    document.save(
        update_fields=[
            "current_version",
            "version_count",
            "search_text",
            "updated_at",
        ]
    )
    _extract_later(version)
    return version


def _version_metadata(version: DocumentVersion) -> dict[str, Any]:
    return {
        "version": version.number,
        "filename": version.filename,
        "sha256": version.sha256,
        "size": version.size,
        "content_type": version.content_type,
    }


def _set_links(document: Document, data: Mapping[str, Any]) -> None:
    if "tags" in data:
        document.tags.set(_tags(data["tags"]))
    for name in LINK_FIELDS:
        if name in data:
            getattr(document, name).set(data[name])


def _links_snapshot(document: Document) -> dict[str, Any]:
    snapshot: dict[str, Any] = {"tags": sorted(tag.name for tag in document.tags.all())}
    for name in LINK_FIELDS:
        snapshot[name] = sorted(getattr(document, name).values_list("pk", flat=True))
    return snapshot


def document_create(
    *, actor: Any, folder: Folder, title: str, file: UploadedFile, data: Mapping[str, Any]
) -> Document:
    """A document and its first version. The file is checked and stored first; a refusal
    stores nothing, and a failed transaction deletes what was stored."""
    check_folder_visible(actor, folder)
    upload = receive_upload(file)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                folder=folder,
                title=title,
                description=data.get("description", ""),
                created_by=actor,
            )
            _set_links(document, data)
            version = _add_version(
                actor=actor, document=document, upload=upload, note=data.get("note", "")
            )
            audit.record(
                action="documents.document.created",
                actor=actor,
                target=document,
                changes={"title": [None, title], "folder": [None, folder.pk]},
                metadata={**_version_metadata(version), **_links_snapshot(document)},
            )
    except BaseException:
        delete_files([upload.name])
        raise
    return document


def document_update(*, actor: Any, document: Document, data: Mapping[str, Any]) -> Document:
    """Title, description, folder (one the actor sees), tags and linked records."""
    if "folder" in data:
        check_folder_visible(actor, data["folder"])
    with transaction.atomic():
        document = lock_document(document)
        if document.in_trash:
            raise ConflictError(
                _("The document is in the trash: restore it first."),
                code=errors.DOCUMENT_IN_TRASH,
            )
        before = {
            "title": document.title,
            "description": document.description,
            "folder": document.folder_id,
            **_links_snapshot(document),
        }
        for name in ("title", "description", "folder"):
            if name in data:
                setattr(document, name, data[name])
        _set_links(document, data)
        document.search_text = _search_text(document)
        document.save(update_fields=["title", "description", "folder", "search_text", "updated_at"])
        after = {
            "title": document.title,
            "description": document.description,
            "folder": document.folder_id,
            **_links_snapshot(document),
        }
        changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        if changes:
            audit.record(
                action="documents.document.updated", actor=actor, target=document, changes=changes
            )
    return document


def version_add(
    *, actor: Any, document: Document, file: UploadedFile, note: str = ""
) -> DocumentVersion:
    """A new version, numbered after the last under the document's row lock: two uploads at
    once get consecutive numbers."""
    upload = receive_upload(file)
    try:
        with transaction.atomic():
            document = lock_document(document)
            if document.in_trash:
                raise ConflictError(
                    _("The document is in the trash: restore it first."),
                    code=errors.DOCUMENT_IN_TRASH,
                )
            version = _add_version(actor=actor, document=document, upload=upload, note=note)
            audit.record(
                action="documents.version.added",
                actor=actor,
                target=document,
                metadata=_version_metadata(version),
            )
    except BaseException:
        delete_files([upload.name])
        raise
    return version


def version_restore(
    *, actor: Any, document: Document, version: DocumentVersion, note: str = ""
) -> DocumentVersion:
    """An old version made current again as a new version: a copy of its file under a new
    key (checked against its SHA-256 as it is read), numbered after the last."""
    ensure_outside_transaction("Copying a document version")
    storage = documents_storage()
    try:
        with storage.open(str(version.file.name), "rb") as stored:
            data = stored.read()
    except (FileNotFoundError, OSError) as error:
        raise ConflictError(
            _("The file of version %(number)d is missing from storage.")
            % {"number": version.number},
            code=errors.FILE_MISSING,
        ) from error
    from django.core.files.base import ContentFile

    copy = ContentFile(data)
    if sha256_of(copy) != version.sha256:
        raise ConflictError(
            _("The file of version %(number)d is damaged (its checksum differs).")
            % {"number": version.number},
            code=errors.FILE_DAMAGED,
        )
    name = store_file(copy)
    upload = Upload(
        name=name,
        filename=version.filename,
        sha256=version.sha256,
        size=version.size,
        content_type=version.content_type,
    )
    try:
        with transaction.atomic():
            document = lock_document(document)
            if document.in_trash:
                raise ConflictError(
                    _("The document is in the trash: restore it first."),
                    code=errors.DOCUMENT_IN_TRASH,
                )
            restored = _add_version(
                actor=actor,
                document=document,
                upload=upload,
                note=note or _("Restored from version %(number)d.") % {"number": version.number},
                restored_from=version,
            )
            audit.record(
                action="documents.version.restored",
                actor=actor,
                target=document,
                metadata={**_version_metadata(restored), "restored_from": version.number},
            )
    except BaseException:
        delete_files([name])
        raise
    return restored


def document_trash(*, actor: Any, document: Document) -> Document:
    """Into the trash: hidden from lists and downloads, restorable for DOCUMENTS_TRASH_DAYS."""
    with transaction.atomic():
        document = lock_document(document)
        if document.in_trash:
            return document
        document.deleted_at = timezone.now()
        document.deleted_by = actor
        document.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
        audit.record(action="documents.document.trashed", actor=actor, target=document)
    return document


def document_restore(*, actor: Any, document: Document) -> Document:
    with transaction.atomic():
        document = lock_document(document)
        if not document.in_trash:
            raise ConflictError(
                _("The document is not in the trash."), code=errors.DOCUMENT_NOT_IN_TRASH
            )
        deleted_at = document.deleted_at
        document.deleted_at = None
        document.deleted_by = None
        document.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
        audit.record(
            action="documents.document.restored",
            actor=actor,
            target=document,
            metadata={"deleted_at": deleted_at.isoformat() if deleted_at else None},
        )
    return document


# --- Downloads ----------------------------------------------------------------------------


def log_access(
    *,
    document: Document,
    version: DocumentVersion,
    user: Any,
    link: ShareLink | None,
    ip_address: str,
    user_agent: str,
) -> DocumentAccess:
    access = DocumentAccess.objects.create(
        document=document,
        version=version,
        channel=AccessChannel.SHARE_LINK if link is not None else AccessChannel.API,
        user=user if link is None else None,
        share_link=link,
        ip_address=ip_address or None,
        user_agent=user_agent[:512].replace("\x00", ""),
    )
    audit.record(
        action="documents.document.downloaded",
        actor=user if link is None else None,
        target=document,
        metadata={
            "version": version.number,
            "channel": access.channel,
            "share_link": link.pk if link is not None else None,
        },
    )
    return access


def document_download(
    *,
    actor: Any,
    document: Document,
    version: DocumentVersion | None = None,
    ip_address: str = "",
    user_agent: str = "",
) -> DocumentVersion:
    """Log the download of ``version`` (the current one by default); returns it. The caller
    answers with the file or a presigned URL once this has committed."""
    if document.in_trash:
        raise ConflictError(_("The document is in the trash."), code=errors.DOCUMENT_IN_TRASH)
    version = version or document.current_version
    if version is None:
        raise ConflictError(
            _("The document has no version yet."), code=errors.DOCUMENT_HAS_NO_VERSION
        )
    with transaction.atomic():
        log_access(
            document=document,
            version=version,
            user=actor,
            link=None,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    return version
