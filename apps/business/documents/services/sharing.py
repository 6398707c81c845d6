"""Share links: made and revoked by editors, used by people without an account."""

import hmac
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, NotFoundError, ServiceError
from apps.support.common.locking import lock_rows
from apps.support.common.tokens import new_token, token_digest

from .. import errors
from ..models import (
    Document,
    DocumentVersion,
    ShareLink,
)
from .documents import lock_document, log_access

logger = logging.getLogger(__name__)

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


def share_link_invalid() -> NotFoundError:
    return NotFoundError(
        _("This share link is unknown, expired, used up or revoked."),
        code=errors.SHARE_LINK_INVALID,
    )


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
    *,
    token: str,
    version: DocumentVersion,
    ip_address: str = "",
    user_agent: str = "",
) -> ShareLink:
    """Count one download of ``version`` (its document's version the link was found to
    serve, ``selectors.shared_version``) through a live link and log it; 404 for an
    unknown, expired, revoked or used-up link, or one whose document is in the trash
    (which of these is not told). Checked again under the link's lock: two downloads of a
    link with one left do not both pass."""
    digest = token_digest(token)
    with transaction.atomic():
        link = lock_share_link(digest)
        if not share_link_allows(link, digest):
            raise share_link_invalid()
        assert link is not None  # noqa: S101  (share_link_allows said so)
        document = Document.objects.get(pk=link.document_id)
        if document.in_trash or version.document_id != document.pk:
            raise share_link_invalid()
        now = timezone.now()
        ShareLink.objects.filter(pk=link.pk).update(
            download_count=F("download_count") + 1, last_used_at=now
        )
        log_access(
            document=document,
            version=version,
            user=None,
            link=link,
            ip_address=ip_address,
            user_agent=user_agent,
        )
    return link
