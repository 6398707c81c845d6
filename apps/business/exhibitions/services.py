"""Writing exhibitions: drafts, revisions, publishing now or at a time, unpublishing, restoring
an old revision, preview links and pictures.

Wagtail keeps the revisions and the live/draft state (docs/adr/0032); these services are the
one way the API changes them, each in one transaction under the exhibition's row lock, with an
audit entry. The editors' screen (/cms/) uses Wagtail's own views, which keep Wagtail's history
and send its signals; ``receivers.py`` records those publications in the audit trail too.

Scheduling: an exhibition's *publication* time is the ``approved_go_live_at`` of the revision
approved to go live; its *unpublication* time is the row's ``expire_at``. Publishing a later
draft keeps a scheduled unpublication; ``unpublish`` with ``cancel`` drops it.
"""

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.actions.unpublish import UnpublishAction
from wagtail.blocks import StreamValue
from wagtail.models import Collection, Revision

from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, NotFoundError, ServiceError
from apps.support.common.images import checked_image
from apps.support.common.locking import lock_row_if_free, lock_rows
from apps.support.common.tokens import new_token, token_digest

from . import errors
from .blocks import MAX_BLOCKS, ExhibitionBody
from .models import Exhibition, ExhibitionGalleryImage, ExhibitionImage, PreviewLink
from .receivers import services_recording

F_ = TypeVar("F_", bound=Callable[..., Any])
logger = logging.getLogger(__name__)


def _recording(function: F_) -> F_:
    """The service writes its own audit entry: the editors' screen's receivers stay quiet."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with services_recording():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


CONTENT_FIELDS = (
    "slug",
    "kind",
    "title_es",
    "title_en",
    "summary_es",
    "summary_en",
    "body_es",
    "body_en",
    "hero_image",
    "section",
    "habitat",
    "opens_on",
    "closes_on",
)
BODY_FIELDS = ("body_es", "body_en")
# What "compare" shows: the content, not Wagtail's bookkeeping.
COMPARED_FIELDS = (*CONTENT_FIELDS, "species", "gallery")
# A publication asked for a moment ago (a slow client) counts as "now".
SCHEDULE_GRACE = timedelta(minutes=1)
MAX_PREVIEW_LINK_HOURS = 24 * 30


# --- The body --------------------------------------------------------------------------


def _block_errors(error: Any, path: str) -> dict[str, list[str]]:
    """Wagtail's nested block errors as ``{"body_es.2.alt_text": [message]}``."""
    found: dict[str, list[str]] = {}
    nested = getattr(error, "block_errors", None)
    if nested:
        items = nested.items() if isinstance(nested, dict) else enumerate(nested)
        for key, child in items:
            if child is not None:
                found.update(_block_errors(child, f"{path}.{key}"))
    non_block = getattr(error, "non_block_errors", None)
    if non_block:
        found.setdefault(path, []).extend(str(message) for message in non_block)
    if not nested and not non_block:
        found.setdefault(path, []).extend(str(message) for message in error.messages)
    return found


# The JSON form of each block's value: its fields and their types (``int`` an id). Wagtail would
# turn a number into text or ``true`` into picture 1 without a word: refused here instead.
BLOCK_FIELDS: dict[str, dict[str, type]] = {
    "fact_box": {"title": str, "facts": list},
    "image": {"image": int, "alt_text": str, "credit": str, "caption": str},
    "species_card": {"species": int, "note": str},
    "call_to_action": {"label": str, "url": str},
}
FACT_FIELDS: dict[str, type] = {"label": str, "value": str}
MAX_ID = 2**62


def _fits(value: Any, fields: dict[str, type]) -> bool:
    if not isinstance(value, dict) or set(value) - set(fields):
        return False
    for name, kind in fields.items():
        item = value.get(name)
        if item is None:
            continue  # missing: the block's own check says it is required
        if kind is int:
            if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= MAX_ID:
                return False
        elif not isinstance(item, kind):
            return False
    return True


def _fact_fits(fact: Any) -> bool:
    """A fact as ``{label, value}``, or as Wagtail stores list items: ``{type, value, id}``."""
    if isinstance(fact, dict) and fact.get("type") == "item":
        return (
            not set(fact) - {"type", "value", "id"}
            and isinstance(fact.get("id", ""), str)
            and _fits(fact.get("value"), FACT_FIELDS)
        )
    return _fits(fact, FACT_FIELDS)


def _raw_body_problem(raw: Any) -> str | None:
    """What makes ``raw`` not a list of blocks in Wagtail's JSON form, or None."""
    if not isinstance(raw, list):
        return _("A list of blocks is required.")
    if len(raw) > MAX_BLOCKS:
        return _("At most %(count)d blocks.") % {"count": MAX_BLOCKS}
    names = set(ExhibitionBody.base_blocks)
    for index, item in enumerate(raw):
        if (
            not isinstance(item, dict)
            or set(item) - {"type", "value", "id"}
            or "value" not in item
            or not isinstance(item.get("id", ""), str)
        ):
            return _('Block %(index)d is not {"type", "value"} (and a text "id").') % {
                "index": index
            }
        if not isinstance(item.get("type"), str) or item["type"] not in names:
            return _("Block %(index)d: the type is one of %(types)s.") % {
                "index": index,
                "types": ", ".join(sorted(names)),
            }
        kind, value = item["type"], item["value"]
        if kind == "rich_text":
            if not isinstance(value, str):
                return _("Block %(index)d: the value is a string of HTML.") % {"index": index}
        elif not _fits(value, BLOCK_FIELDS[kind]) or (
            kind == "fact_box" and not all(_fact_fits(fact) for fact in value.get("facts") or [])
        ):
            return _(
                "Block %(index)d: the value has the fields of a %(type)s, of their types "
                "(text, or an id from 1)."
            ) % {"index": index, "type": kind}
    return None


def checked_body(raw: Any, *, field: str) -> StreamValue:
    """``raw`` (a list of ``{"type", "value"}``) as a cleaned StreamField value, or a 400
    naming the block and field at fault; rich text is reduced to the safe subset."""
    problem = _raw_body_problem(raw)
    if problem:
        raise ServiceError(problem, code=errors.BODY_INVALID, field=field)
    block = ExhibitionBody()
    try:
        value = block.to_python(raw)
        cleaned = block.clean(value)
    except ValidationError as error:
        raise ValidationError(_block_errors(error, field)) from error
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as error:
        raise ServiceError(
            _("A block's value does not have the fields of its type."),
            code=errors.BODY_INVALID,
            field=field,
        ) from error
    return cleaned


# --- Drafts and revisions -------------------------------------------------------------


def _locked_row(exhibition: Exhibition, actor: Any) -> Exhibition:
    """The exhibition's row, locked for this transaction; refused when an editor holds
    Wagtail's edit lock on it."""
    row = lock_rows(Exhibition.objects.filter(pk=exhibition.pk))[0]
    if row.locked and row.locked_by_id != getattr(actor, "pk", None):
        raise ConflictError(
            _("Another editor has locked this exhibition in the editors' screen."),
            code=errors.EXHIBITION_LOCKED,
        )
    return row


def _scheduled_as_row(draft: Exhibition, row: Exhibition) -> Exhibition:
    """``draft`` with the schedule the row holds (a revision's own copy may be older: the
    schedule is set by actions, not by editing)."""
    draft.go_live_at, draft.expire_at = row.go_live_at, row.expire_at
    return draft


def _check_slug(exhibition: Exhibition) -> None:
    """A slug no other exhibition has, nor will have when its draft or scheduled revision is
    published (two exhibitions must never answer to one address)."""
    others = Exhibition.objects.exclude(pk=exhibition.pk)
    pending = Revision.objects.filter(
        content_type=ContentType.objects.get_for_model(Exhibition), content__slug=exhibition.slug
    ).filter(Q(approved_go_live_at__isnull=False) | Q(pk__in=others.values("latest_revision_id")))
    if exhibition.pk is not None:
        pending = pending.exclude(object_id=str(exhibition.pk))
    if others.filter(slug=exhibition.slug).exists() or pending.exists():
        raise ServiceError(
            _("Another exhibition has this slug, or will have it once published."),
            code=errors.SLUG_TAKEN,
            field="slug",
        )


def _apply(exhibition: Exhibition, data: Mapping[str, Any]) -> list[str]:
    """Set the given content on ``exhibition`` (in memory); the names of what was given."""
    for name in CONTENT_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in BODY_FIELDS:
            value = checked_body(value, field=name)
        setattr(exhibition, name, value)
    if "species" in data:
        exhibition.species = list(data["species"])
    if "gallery" in data:
        exhibition.gallery = [
            ExhibitionGalleryImage(
                image=item["image"],
                caption_es=item.get("caption_es", ""),
                caption_en=item.get("caption_en", ""),
                sort_order=order,
            )
            for order, item in enumerate(data["gallery"])
        ]
    return [name for name in COMPARED_FIELDS if name in data]


@_recording
def exhibition_create(*, actor: Any, data: Mapping[str, Any]) -> Exhibition:
    """A new exhibition, as a draft nobody but staff sees; its first revision."""
    exhibition = Exhibition(live=False, has_unpublished_changes=True)
    changed = _apply(exhibition, data)
    _check_slug(exhibition)
    exhibition.full_clean()
    with transaction.atomic():
        exhibition.save()
        revision = exhibition.save_revision(user=actor, log_action=True, clean=False)
        audit.record(
            action="exhibitions.exhibition.created",
            actor=actor,
            target=exhibition,
            metadata={"slug": exhibition.slug, "revision": revision.pk, "fields": changed},
        )
    return exhibition


@_recording
def exhibition_update(*, actor: Any, exhibition: Exhibition, data: Mapping[str, Any]) -> Exhibition:
    """A new revision of the draft with ``data`` changed. What is live stays as it is until
    the draft is published; while nothing is live the row follows the draft."""
    with transaction.atomic():
        row = _locked_row(exhibition, actor)
        draft = _scheduled_as_row(row.get_latest_revision_as_object(), row)
        changed = _apply(draft, data)
        draft.full_clean()
        _check_slug(draft)
        if not row.live:
            draft.save()
        revision = draft.save_revision(user=actor, log_action=True, clean=False)
        audit.record(
            action="exhibitions.exhibition.updated",
            actor=actor,
            target=row,
            metadata={"revision": revision.pk, "fields": changed},
        )
    return draft


def _revision_of(row: Exhibition, revision_id: int) -> Revision:
    revision = Revision.objects.filter(
        pk=revision_id,
        content_type=row.get_content_type(),
        object_id=str(row.pk),
    ).first()
    if revision is None:
        raise NotFoundError(
            _("This exhibition has no such revision."), code=errors.REVISION_NOT_FOUND
        )
    return revision


@_recording
def exhibition_restore(*, actor: Any, exhibition: Exhibition, revision_id: int) -> Revision:
    """An old revision's content as a new revision of the draft (nothing is published)."""
    with transaction.atomic():
        row = _locked_row(exhibition, actor)
        old = _revision_of(row, revision_id)
        restored = _scheduled_as_row(old.as_object(), row)
        restored.full_clean()
        _check_slug(restored)
        if not row.live:
            restored.save()
        revision = restored.save_revision(
            user=actor, previous_revision=old, log_action=True, clean=False
        )
        audit.record(
            action="exhibitions.exhibition.restored",
            actor=actor,
            target=row,
            metadata={"restored_revision": old.pk, "revision": revision.pk},
        )
    return revision


def compare_revisions(first: Revision, second: Revision) -> list[dict[str, Any]]:
    """Field by field, what differs between two revisions' content (``before`` is the first
    one's value, ``after`` the second's), in the order of ``COMPARED_FIELDS``."""
    before, after = first.content, second.content
    changes = []
    for name in COMPARED_FIELDS:
        key = name if name in before or name in after else f"{name}_id"
        old, new = before.get(key), after.get(key)
        if name == "gallery":
            old, new = _gallery_content(old), _gallery_content(new)
        if old != new:
            changes.append({"field": name, "before": old, "after": new})
    return changes


def _gallery_content(items: Any) -> list[dict[str, Any]]:
    return [
        {key: item.get(key) for key in ("image", "caption_es", "caption_en")}
        for item in items or []
    ]


# --- Publishing --------------------------------------------------------------------------


def _moment(at: datetime | None, now: datetime, *, field: str) -> datetime | None:
    """``at`` as a future moment, None for "now"; a moment well past is refused."""
    if at is None:
        return None
    if at < now - SCHEDULE_GRACE:
        raise ServiceError(
            _("That time has passed; leave it out to act now."),
            code=errors.SCHEDULE_IN_PAST,
            field=field,
        )
    return at if at > now else None


def _pending(row: Exhibition) -> Revision | None:
    return row.revisions.filter(approved_go_live_at__isnull=False).first()


@_recording
def exhibition_publish(
    *, actor: Any, exhibition: Exhibition, at: datetime | None = None
) -> Exhibition:
    """Publish the latest draft now, or approve it to go live at ``at`` (what is live, if
    anything, stays until then). A scheduled unpublication is kept."""
    now = timezone.now()
    at = _moment(at, now, field="at")
    with transaction.atomic():
        row = _locked_row(exhibition, actor)
        if at is not None and row.expire_at is not None and row.expire_at <= at:
            raise ServiceError(
                _("The exhibition is to be unpublished before that time."),
                code=errors.SCHEDULE_ORDER,
                field="at",
            )
        draft = row.get_latest_revision_as_object()
        draft.go_live_at = at
        draft.expire_at = row.expire_at if row.expire_at and row.expire_at > now else None
        draft.full_clean()
        _check_slug(draft)
        revision = draft.save_revision(user=actor, clean=False)
        revision.publish(user=actor, skip_permission_checks=True)
        audit.record(
            action="exhibitions.exhibition.publish_scheduled"
            if at
            else "exhibitions.exhibition.published",
            actor=actor,
            target=row,
            metadata={
                "revision": revision.pk,
                "at": at.isoformat() if at else None,
                "slug": draft.slug,
            },
        )
    return Exhibition.objects.get(pk=row.pk)


@_recording
def exhibition_unpublish(
    *, actor: Any, exhibition: Exhibition, at: datetime | None = None, cancel: bool = False
) -> Exhibition:
    """Take the exhibition off the public site now (and drop any scheduled publication), or
    at ``at``; ``cancel`` drops a scheduled unpublication instead."""
    now = timezone.now()
    at = None if cancel else _moment(at, now, field="at")
    with transaction.atomic():
        row = _locked_row(exhibition, actor)
        pending = _pending(row)
        if cancel:
            return _cancel_unpublication(row, actor, now)
        if not row.live and pending is None:
            raise ConflictError(
                _("The exhibition is neither published nor scheduled."),
                code=errors.NOT_PUBLISHED,
            )
        if at is None:
            row.revisions.update(approved_go_live_at=None)
            row.expire_at = None
            UnpublishAction(row, user=actor, commit=False).execute(skip_permission_checks=True)
            row.save()
            action, metadata = "exhibitions.exhibition.unpublished", {}
        else:
            if pending is not None and pending.approved_go_live_at >= at:
                raise ServiceError(
                    _("The exhibition is scheduled to be published after that time."),
                    code=errors.SCHEDULE_ORDER,
                    field="at",
                )
            row.expire_at = at
            row.save(update_fields=["expire_at"])
            if pending is not None:
                # The job publishes the pending revision with its own expire_at: keep it in step.
                pending.content["expire_at"] = at.isoformat()
                pending.save(update_fields=["content"])
            action, metadata = "exhibitions.exhibition.unpublish_scheduled", {"at": at.isoformat()}
        audit.record(action=action, actor=actor, target=row, metadata=metadata)
    return Exhibition.objects.get(pk=row.pk)


def _cancel_unpublication(row: Exhibition, actor: Any, now: datetime) -> Exhibition:
    if row.expire_at is None or row.expire_at <= now:
        raise ConflictError(
            _("No unpublication is scheduled."), code=errors.NOT_PUBLISHED, field="cancel"
        )
    row.expire_at = None
    row.save(update_fields=["expire_at"])
    pending = _pending(row)
    if pending is not None:
        pending.content["expire_at"] = None
        pending.save(update_fields=["content"])
    audit.record(action="exhibitions.exhibition.unpublish_cancelled", actor=actor, target=row)
    return Exhibition.objects.get(pk=row.pk)


@dataclass
class ScheduleRun:
    published: int = 0
    unpublished: int = 0
    skipped: int = 0  # in use by an editor's transaction right now: taken next run
    failed: int = 0  # refused by the database (logged): tried again next run


@_recording
def publish_scheduled() -> ScheduleRun:
    """Catch the rows up with what is live now (publish due revisions, unpublish exhibitions
    whose time has passed); what the public sees does not wait for this. Rows in use are
    skipped, never waited for (``SKIP LOCKED``), and each is re-read under its lock."""
    now = timezone.now()
    run = ScheduleRun()
    expired = Exhibition.objects.filter(live=True, expire_at__lte=now).values_list("pk", flat=True)
    for pk in list(expired):
        with transaction.atomic():
            row = lock_row_if_free(Exhibition.objects.filter(pk=pk))
            if row is None:
                run.skipped += 1
                continue
            if not (row.live and row.expire_at and row.expire_at <= now):
                continue  # published again or rescheduled meanwhile
            UnpublishAction(
                row, set_expired=True, log_action="wagtail.unpublish.scheduled"
            ).execute(skip_permission_checks=True)
            audit.record(
                action="exhibitions.exhibition.unpublished",
                actor=audit.SYSTEM,
                target=row,
                metadata={"scheduled": row.expire_at.isoformat()},
            )
            run.unpublished += 1
    due = Revision.objects.filter(
        content_type=ContentType.objects.get_for_model(Exhibition), approved_go_live_at__lte=now
    ).values_list("pk", "object_id")
    for revision_id, object_id in list(due):
        try:
            run.published += _publish_due(revision_id, object_id, now, run)
        except IntegrityError:
            # E.g. a slug taken meanwhile by another exhibition (the editors' screen checks
            # rows only): the others still go out; this one is logged on every run until an
            # editor resolves it.
            logger.exception(
                "Scheduled revision %s of exhibition %s failed", revision_id, object_id
            )
            run.failed += 1
    return run


def _publish_due(revision_id: int, object_id: str, now: datetime, run: ScheduleRun) -> int:
    with transaction.atomic():
        if lock_row_if_free(Exhibition.objects.filter(pk=int(object_id))) is None:
            run.skipped += 1
            return 0
        revision = Revision.objects.filter(pk=revision_id, approved_go_live_at__lte=now).first()
        if revision is None:
            return 0  # published or cancelled meanwhile
        revision.publish(log_action="wagtail.publish.scheduled", skip_permission_checks=True)
        audit.record(
            action="exhibitions.exhibition.published",
            actor=audit.SYSTEM,
            target_type="exhibitions.exhibition",
            target_id=object_id,
            metadata={"revision": revision_id, "scheduled": True},
        )
        return 1


# --- Preview links -----------------------------------------------------------------------


def preview_link_create(
    *,
    actor: Any,
    exhibition: Exhibition,
    expires_in_hours: int | None = None,
    revision_id: int | None = None,
) -> tuple[PreviewLink, str]:
    """A link showing one revision (the latest draft unless named) until it expires; the
    token is returned once and only its hash is kept."""
    hours = expires_in_hours or settings.EXHIBITION_PREVIEW_LINK_HOURS
    if not 1 <= hours <= MAX_PREVIEW_LINK_HOURS:
        raise ServiceError(
            _("A preview link lasts from 1 to %(hours)d hours.")
            % {"hours": MAX_PREVIEW_LINK_HOURS},
            code=errors.PREVIEW_LINK_HOURS,
            field="expires_in_hours",
        )
    token = new_token()
    with transaction.atomic():
        row = lock_rows(Exhibition.objects.filter(pk=exhibition.pk))[0]
        if revision_id is not None:
            revision = _revision_of(row, revision_id)
        else:
            revision = row.latest_revision  # every exhibition has one from its creation
        link = PreviewLink.objects.create(
            exhibition=row,
            revision=revision,
            token_hash=token_digest(token),
            created_by=actor,
            expires_at=timezone.now() + timedelta(hours=hours),
        )
        audit.record(
            action="exhibitions.preview_link.created",
            actor=actor,
            target=row,
            metadata={"link": link.pk, "revision": revision.pk, "hours": hours},
        )
    return link, token


def preview_link_revoke(*, actor: Any, link: PreviewLink) -> PreviewLink:
    with transaction.atomic():
        link = lock_rows(PreviewLink.objects.filter(pk=link.pk))[0]
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            audit.record(
                action="exhibitions.preview_link.revoked",
                actor=actor,
                target_type="exhibitions.exhibition",
                target_id=link.exhibition_id,
                metadata={"link": link.pk},
            )
    return link


def preview_link_open(token: str) -> tuple[PreviewLink, Exhibition]:
    """The revision a live link shows, counting the use; 404 for an unknown, expired or
    revoked link (which of these is not told)."""
    now = timezone.now()
    link = (
        PreviewLink.objects.select_related("revision")
        .filter(token_hash=token_digest(token), revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if link is None:
        raise NotFoundError(
            _("This preview link is unknown, expired or revoked."),
            code=errors.PREVIEW_LINK_INVALID,
        )
    PreviewLink.objects.filter(pk=link.pk).update(uses=F("uses") + 1, last_used_at=now)
    return link, link.revision.as_object()


# --- Pictures ----------------------------------------------------------------------------


def image_create(
    *,
    actor: Any,
    file: UploadedFile,
    alt_text_es: str,
    alt_text_en: str = "",
    credit: str = "",
    title: str = "",
) -> ExhibitionImage:
    """A picture checked by its content and size, stored first (outside any transaction),
    then recorded; the stored file is removed again if recording fails."""
    file = checked_image(
        file,
        max_bytes=settings.EXHIBITION_IMAGE_MAX_BYTES,
        max_pixels=settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS,
        field="file",
    )
    image = ExhibitionImage(
        title=(title or alt_text_es)[:255],
        alt_text_es=alt_text_es,
        alt_text_en=alt_text_en,
        credit=credit,
        uploaded_by_user=actor,
        collection=Collection.get_first_root_node(),
    )
    image.file = file
    image._set_image_file_metadata()
    image.file.save(file.name or "upload", file, save=False)
    try:
        with transaction.atomic():
            image.save()
            audit.record(
                action="exhibitions.image.created",
                actor=actor,
                target=image,
                metadata={"size": image.file_size, "width": image.width, "height": image.height},
            )
    except BaseException:
        image.file.storage.delete(image.file.name)
        raise
    return image
