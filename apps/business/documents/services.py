"""Writes of the documents module: folders, documents and their versions, downloads, share
links, the trash, and the integrity check.

Storage is remote in production (S3), so it is never called inside a transaction or under a
row lock (docs/adr/0037): an upload is written to storage first under a fresh unique key, then
its version row is created in a short transaction; when that transaction fails the orphan
file is deleted after. Files leave storage only after the deletion of their rows commits.
"""

import hmac
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, NotFoundError, ServiceError
from apps.support.common.locking import ensure_outside_transaction, lock_row_if_free, lock_rows
from apps.support.common.text import search_key
from apps.support.common.tokens import new_token, token_digest

from . import errors, selectors
from .files import PDF, checked_upload, clean_filename, sha256_of
from .models import (
    AccessChannel,
    Document,
    DocumentAccess,
    DocumentVersion,
    Folder,
    ShareLink,
    Tag,
    documents_storage,
)

logger = logging.getLogger(__name__)

LINK_FIELDS = ("animals", "species", "habitats", "exhibitions", "programs")
DOCUMENT_FIELDS = ("title", "description", "folder", "tags", *LINK_FIELDS)
FOLDER_FIELDS = ("name", "parent", "description", "is_public", "roles")


# --- Folders ------------------------------------------------------------------------------


def _role_names(folder: Folder, data: Mapping[str, Any] | None = None) -> set[str]:
    if data is not None and "roles" in data:
        return {group.name for group in data["roles"]}
    return set(folder.roles.values_list("name", flat=True))


def _check_folder(folder: Folder, roles: set[str], data: Mapping[str, Any]) -> None:
    """A folder is never seen by more people than its parent, nor by fewer than its
    sub-folders; it never becomes its own ancestor."""
    parent = data.get("parent", folder.parent)
    is_public = data.get("is_public", folder.is_public)
    if parent is not None:
        ancestor: Folder | None = parent
        while ancestor is not None:
            if folder.pk is not None and ancestor.pk == folder.pk:
                raise ServiceError(
                    _("A folder cannot go inside itself or one of its sub-folders."),
                    code=errors.FOLDER_CYCLE,
                    field="parent",
                )
            ancestor = ancestor.parent
        if not parent.is_public and (is_public or not roles <= _role_names(parent)):
            raise ServiceError(
                _(
                    "A sub-folder is seen by no more people than its parent: it may only be "
                    "public inside a public folder, and only have roles of its parent."
                ),
                code=errors.FOLDER_WIDER_THAN_PARENT,
                field="roles",
            )
    if folder.pk is not None and not is_public:
        for child in folder.children.prefetch_related("roles"):
            if child.is_public or not {group.name for group in child.roles.all()} <= roles:
                raise ServiceError(
                    _("The sub-folder %(child)s is seen by more people than that.")
                    % {"child": child.name},
                    code=errors.FOLDER_NARROWER_THAN_CHILDREN,
                    field="roles",
                )
    name = data.get("name", folder.name)
    clash = Folder.objects.filter(parent=parent, name=name).exclude(pk=folder.pk)
    if clash.exists():
        raise ServiceError(
            _("There is already a folder named %(name)s there.") % {"name": name},
            code=errors.FOLDER_NAME_TAKEN,
            field="name",
        )


def _folder_snapshot(folder: Folder) -> dict[str, Any]:
    return {
        "name": folder.name,
        "parent": folder.parent_id,
        "is_public": folder.is_public,
        "roles": sorted(folder.roles.values_list("name", flat=True)),
    }


def folder_create(*, actor: Any, data: Mapping[str, Any]) -> Folder:
    folder = Folder()
    roles = {group.name for group in data.get("roles", [])}
    _check_folder(folder, roles, data)
    with transaction.atomic():
        folder = Folder.objects.create(
            name=data["name"],
            parent=data.get("parent"),
            description=data.get("description", ""),
            is_public=data.get("is_public", False),
        )
        folder.roles.set(data.get("roles", []))
        audit.record(
            action="documents.folder.created",
            actor=actor,
            target=folder,
            changes={key: [None, value] for key, value in _folder_snapshot(folder).items()},
        )
    return folder


def folder_update(*, actor: Any, folder: Folder, data: Mapping[str, Any]) -> Folder:
    with transaction.atomic():
        folder = lock_rows(Folder.objects.filter(pk=folder.pk))[0]
        _check_folder(folder, _role_names(folder, data), data)
        before = _folder_snapshot(folder)
        for name in ("name", "parent", "description", "is_public"):
            if name in data:
                setattr(folder, name, data[name])
        folder.save()
        if "roles" in data:
            folder.roles.set(data["roles"])
        after = _folder_snapshot(folder)
        changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        if changes:
            audit.record(
                action="documents.folder.updated", actor=actor, target=folder, changes=changes
            )
    return folder


def folder_delete(*, actor: Any, folder: Folder) -> None:
    """Only an empty folder goes (no sub-folders, no documents, none in the trash)."""
    with transaction.atomic():
        folder = lock_rows(Folder.objects.filter(pk=folder.pk))[0]
        if folder.children.exists() or folder.documents.exists():
            raise ConflictError(
                _("Only an empty folder can be deleted: move or delete what it holds first."),
                code=errors.FOLDER_NOT_EMPTY,
            )
        audit.record(
            action="documents.folder.deleted",
            actor=actor,
            target=folder,
            changes={key: [value, None] for key, value in _folder_snapshot(folder).items()},
        )
        folder.delete()


def _check_folder_visible(actor: Any, folder: Folder) -> None:
    if not selectors.visible_folders(actor).filter(pk=folder.pk).exists():
        raise ServiceError(
            _("There is no such folder."), code=errors.FOLDER_NOT_VISIBLE, field="folder"
        )


# --- Storage ------------------------------------------------------------------------------


def new_file_key() -> str:
    """A key never used before (docs/adr/0037): the file of a failed upload or of a version
    never overwrites another's."""
    return f"{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


def _store(file: IO[bytes]) -> str:
    """Write ``file`` to the documents' storage under a fresh key; outside any transaction."""
    ensure_outside_transaction("Writing a document to storage")
    file.seek(0)
    return documents_storage().save(new_file_key(), file)


def _delete_files(names: Iterable[str]) -> None:
    """Remove stored files (after the rows that named them are gone); a failure is logged,
    and ``documents_verify`` does not report files no row names."""
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


def _upload(file: UploadedFile) -> Upload:
    original = file.name or ""
    sniffed, sha256, size = checked_upload(file)
    name = _store(file)
    return Upload(
        name=name,
        filename=clean_filename(original, extension=sniffed.extension),
        sha256=sha256,
        size=size,
        content_type=sniffed.content_type,
    )


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
        from .tasks import extract_text

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
    document.content = search_key(version.text)
    document.search_text = _search_text(document, upload.filename)
    document.save(
        update_fields=[
            "current_version",
            "version_count",
            "content",
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
    _check_folder_visible(actor, folder)
    upload = _upload(file)
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
        _delete_files([upload.name])
        raise
    return document


def document_update(*, actor: Any, document: Document, data: Mapping[str, Any]) -> Document:
    """Title, description, folder (one the actor sees), tags and linked records."""
    if "folder" in data:
        _check_folder_visible(actor, data["folder"])
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
    upload = _upload(file)
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
        _delete_files([upload.name])
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
    name = _store(copy)
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
        _delete_files([name])
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


def _log_access(
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
        raise NotFoundError(_("The document is in the trash."), code=errors.DOCUMENT_IN_TRASH)
    version = version or document.current_version
    if version is None:
        raise ConflictError(
            _("The document has no version yet."), code=errors.DOCUMENT_HAS_NO_VERSION
        )
    with transaction.atomic():
        _log_access(
            document=document,
            version=version,
            user=actor,
            link=None,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    return version


# --- Share links --------------------------------------------------------------------------


def share_link_create(
    *,
    actor: Any,
    document: Document,
    expires_in_hours: int,
    max_downloads: int | None = None,
    note: str = "",
) -> tuple[ShareLink, str]:
    """A link for someone without an account; the token is returned once, only its hash is
    kept."""
    most_hours = settings.DOCUMENTS_SHARE_LINK_MAX_HOURS
    if not 1 <= expires_in_hours <= most_hours:
        raise ServiceError(
            _("A share link lasts from 1 to %(hours)d hours.") % {"hours": most_hours},
            code=errors.SHARE_LINK_HOURS,
            field="expires_in_hours",
        )
    most_downloads = settings.DOCUMENTS_SHARE_LINK_MAX_DOWNLOADS
    if max_downloads is not None and not 1 <= max_downloads <= most_downloads:
        raise ServiceError(
            _("A share link allows from 1 to %(count)d downloads, or any number (empty).")
            % {"count": most_downloads},
            code=errors.SHARE_LINK_DOWNLOADS,
            field="max_downloads",
        )
    token = new_token()
    with transaction.atomic():
        document = lock_document(document)
        if document.in_trash:
            raise ConflictError(
                _("The document is in the trash: restore it first."),
                code=errors.DOCUMENT_IN_TRASH,
            )
        if document.current_version_id is None:
            raise ConflictError(
                _("The document has no version yet."), code=errors.DOCUMENT_HAS_NO_VERSION
            )
        link = ShareLink.objects.create(
            document=document,
            token_hash=token_digest(token),
            note=note,
            created_by=actor,
            expires_at=timezone.now() + timedelta(hours=expires_in_hours),
            max_downloads=max_downloads,
        )
        audit.record(
            action="documents.share_link.created",
            actor=actor,
            target=document,
            metadata={
                "share_link": link.pk,
                "hours": expires_in_hours,
                "max_downloads": max_downloads,
            },
        )
    return link, token


def share_link_revoke(*, actor: Any, link: ShareLink) -> ShareLink:
    with transaction.atomic():
        link = lock_rows(ShareLink.objects.filter(pk=link.pk))[0]
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.revoked_by = actor
            link.save(update_fields=["revoked_at", "revoked_by"])
            audit.record(
                action="documents.share_link.revoked",
                actor=actor,
                target_type="documents.document",
                target_id=link.document_id,
                metadata={"share_link": link.pk},
            )
    return link


def lock_share_link(digest: str) -> ShareLink | None:
    """The link of that token hash, locked until the transaction ends: its downloads are
    counted one after the other, so ``max_downloads`` holds under concurrent use."""
    rows = lock_rows(ShareLink.objects.filter(token_hash=digest))
    return rows[0] if rows else None


def share_link_allows(link: ShareLink | None, digest: str) -> bool:
    """Read under the link's lock: is it live (the hash compared in constant time)?"""
    return (
        link is not None
        and hmac.compare_digest(link.token_hash, digest)
        and link.is_live(timezone.now())
    )


def share_link_download(
    *, token: str, ip_address: str = "", user_agent: str = ""
) -> tuple[ShareLink, DocumentVersion]:
    """Count one download of a live link and log it; 404 for an unknown, expired, revoked or
    used-up link, or one whose document is in the trash (which of these is not told)."""
    digest = token_digest(token)
    invalid = NotFoundError(
        _("This share link is unknown, expired, used up or revoked."),
        code=errors.SHARE_LINK_INVALID,
    )
    with transaction.atomic():
        link = lock_share_link(digest)
        if not share_link_allows(link, digest):
            raise invalid
        assert link is not None  # noqa: S101  (share_link_allows said so)
        document = Document.objects.select_related("current_version").get(pk=link.document_id)
        version = document.current_version
        if document.in_trash or version is None:
            raise invalid
        now = timezone.now()
        ShareLink.objects.filter(pk=link.pk).update(
            download_count=F("download_count") + 1, last_used_at=now
        )
        _log_access(
            document=document,
            version=version,
            user=None,
            link=link,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    return link, version


# --- PDF text -----------------------------------------------------------------------------


def version_text_extract(*, version_id: int) -> bool:
    """Read a PDF version's text (outside any transaction: storage may be remote) and keep it
    for search; idempotent (a version already read is skipped). Returns whether it read."""
    from .files import pdf_text

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
    with transaction.atomic():
        written = DocumentVersion.objects.filter(
            pk=version_id, text_extracted_at__isnull=True
        ).update(text=text, text_extracted_at=timezone.now())
        if written:
            Document.objects.filter(pk=version.document_id, current_version_id=version_id).update(
                content=search_key(text)
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
            transaction.on_commit(lambda names=names: _delete_files(names))  # type: ignore[misc]
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


def roles_by_name(names: Iterable[str]) -> list[Group]:
    return list(Group.objects.filter(name__in=list(names)))
