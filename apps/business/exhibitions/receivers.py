"""Audit entries for what editors do in the editors' screen (/cms/), where Wagtail's own views
save, publish and unpublish: the same actions the API's services record, marked ``via: cms``.

The services record their own entries (with more context) and mute these receivers while they
run (``services_recording``), so each action is written once.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.models import Revision
from wagtail.signals import published, unpublished

from apps.support.audit import services as audit

from .models import Exhibition

_muted: ContextVar[bool] = ContextVar("exhibitions_audit_muted", default=False)


@contextmanager
def services_recording() -> Iterator[None]:
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


@receiver(post_save, sender=Revision)
def revision_saved(sender: Any, instance: Revision, created: bool, **kwargs: Any) -> None:
    if _muted.get() or not created or instance.base_content_type.model_class() is not Exhibition:
        return
    first = (
        not Revision.objects.filter(
            base_content_type=instance.base_content_type, object_id=instance.object_id
        )
        .exclude(pk=instance.pk)
        .exists()
    )
    audit.record(
        action="exhibitions.exhibition.created" if first else "exhibitions.exhibition.updated",
        target_type="exhibitions.exhibition",
        target_id=instance.object_id,
        metadata={"revision": instance.pk, "via": "cms"},
    )


@receiver(published, sender=Exhibition)
def exhibition_published(
    sender: Any, instance: Exhibition, revision: Revision, **kwargs: Any
) -> None:
    if _muted.get():
        return
    audit.record(
        action="exhibitions.exhibition.published"
        if instance.live
        else "exhibitions.exhibition.publish_scheduled",
        target=instance,
        metadata={
            "revision": revision.pk,
            "at": revision.approved_go_live_at.isoformat()
            if revision.approved_go_live_at
            else None,
            "via": "cms",
        },
    )


@receiver(unpublished, sender=Exhibition)
def exhibition_unpublished(sender: Any, instance: Exhibition, **kwargs: Any) -> None:
    if _muted.get():
        return
    audit.record(
        action="exhibitions.exhibition.unpublished", target=instance, metadata={"via": "cms"}
    )


@receiver(post_delete, sender=Exhibition)
def exhibition_deleted(sender: Any, instance: Exhibition, **kwargs: Any) -> None:
    audit.record(
        action="exhibitions.exhibition.deleted",
        target=instance,
        metadata={"slug": instance.slug, "title": instance.title_es},
    )
