"""Reads of the documents module: what a user may see, lists, search, the access log."""

from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from apps.support.common.text import search_key
from apps.support.common.tokens import token_digest
from apps.support.security.roles import Role, has_any_role, role_names

from .models import Document, DocumentAccess, DocumentVersion, Folder, ShareLink

# See every folder (read only for auditors): the people who answer for the whole park.
SEE_EVERY_FOLDER = (Role.AUDITOR,)


def sees_every_folder(user: Any) -> bool:
    return has_any_role(user, SEE_EVERY_FOLDER)


def visible_folders(user: Any) -> QuerySet[Folder]:
    """The folders ``user`` may see: every one for administrators and auditors; public ones
    for anyone signed in; else those of one of the user's roles. Nothing for anonymous."""
    folders = Folder.objects.all()
    if not user or not user.is_authenticated:
        return folders.none()
    if sees_every_folder(user):
        return folders
    through = Folder.roles.through
    of_my_roles = through.objects.filter(
        folder_id=OuterRef("pk"), group__name__in=sorted(role_names(user))
    )
    return folders.filter(Q(is_public=True) | Exists(of_my_roles))


def folder_list(*, user: Any) -> QuerySet[Folder]:
    return visible_folders(user).select_related("parent").prefetch_related("roles")


def document_list(*, user: Any, trash: bool = False) -> QuerySet[Document]:
    """Documents in folders ``user`` may see: those in use, or (``trash``) those deleted."""
    documents = Document.objects.filter(
        folder__in=visible_folders(user).values("pk"), deleted_at__isnull=not trash
    )
    return documents.select_related(
        "folder", "current_version__uploaded_by", "current_version__restored_from"
    ).prefetch_related("tags", "animals", "species", "habitats", "exhibitions", "programs")


def document_any(*, user: Any) -> QuerySet[Document]:
    """In use or in the trash: what restore and the version routes look up."""
    return (
        Document.objects.filter(folder__in=visible_folders(user).values("pk"))
        .select_related("folder", "current_version__uploaded_by", "current_version__restored_from")
        .prefetch_related("tags", "animals", "species", "habitats", "exhibitions", "programs")
    )


def document_search(documents: QuerySet[Document], term: str) -> QuerySet[Document]:
    """Documents whose title, description, tags or file name hold every word of ``term``,
    or whose PDF text does: PostgreSQL's full-text search (``simple`` configuration over the
    accent-free text, a GIN index) there; a substring match elsewhere (docs/adr/0036)."""
    key = search_key(term).strip()
    if not key:
        return documents
    words = key.split()
    in_fields = Q()
    for word in words:
        in_fields &= Q(search_text__contains=word)
    if connection.vendor == "postgresql":
        # The versions whose text matches, found through the GIN index over the versions'
        # own vector (an expression over a joined table would read every row's text), then
        # the documents whose current version is one of them.
        matching = (
            DocumentVersion.objects.alias(text_vector=SearchVector("text", config="simple"))
            .filter(text_vector=SearchQuery(key, config="simple", search_type="plain"))
            .values("pk")
        )
        in_text = Q(current_version_id__in=matching)
    else:
        in_text = Q()
        for word in words:
            in_text &= Q(current_version__text__contains=word)
    return documents.filter(in_fields | in_text)


def version_list(document: Document) -> QuerySet[DocumentVersion]:
    return document.versions.select_related("uploaded_by").order_by("-number")


def access_log(document: Document) -> QuerySet[DocumentAccess]:
    return document.accesses.select_related("user", "version", "share_link").order_by(
        "-accessed_at", "-id"
    )


def share_link_list(document: Document) -> QuerySet[ShareLink]:
    return document.share_links.select_related("created_by").order_by("-created_at", "-id")


def document_with_versions(pk: int) -> Document:
    return Document.objects.prefetch_related(
        Prefetch("versions", queryset=DocumentVersion.objects.order_by("-number"))
    ).get(pk=pk)


def shared_version(token: str) -> DocumentVersion | None:
    """The version a share link serves (its document's current one), if the link is live
    and its document in use; None otherwise. Reads only: the download is counted by
    ``services.share_link_download``, which checks the link again under its lock."""
    digest = token_digest(token)
    link = (
        ShareLink.objects.filter(token_hash=digest)
        .select_related("document__current_version")
        .first()
    )
    if link is None or not link.is_live(timezone.now()):
        return None
    document = link.document
    if document.in_trash:
        return None
    return document.current_version
