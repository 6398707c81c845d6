"""Versions of what public reads are cached under, changed on commit of every write.

A cached read (``api.conditional.CachedReadMixin``) is stored under the current *version* of
each namespace it depends on (``catalogue``, ``slots``, ``campaigns``). A write that changes a
namespace gives it a new random version once its transaction commits, so every process's next
read misses the old copies and reads the database; the old copies expire on their own.

Why a read cannot keep a stale copy: the reader takes the versions *before* it reads the
database. A copy stored under a version was therefore read after that version was set, which
is after the commit of every write that came before it.

Models are ``watch``ed (saved or deleted through the ORM: the API, the back office, scripts);
services that write with ``QuerySet.update()`` or ``bulk_create()``, which send no signals,
call ``changed`` themselves.

Without the cache (Redis down or hung, docs/adr/0038) nothing is read from or written to it:
reads go to the database. A version that could not be changed because the cache was
unreachable is changed, with every other, the next time this process reaches the cache; a copy
never outlives ``READ_CACHE_SECONDS`` in any case (docs/adr/0043).
"""

import secrets
import threading
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from .cache import breaker

CATALOGUE = "catalogue"  # species, sections, habitats and what they show (occupancy, images)
SLOTS = "slots"  # ticket availability: slots, holds, closures
CAMPAIGNS = "campaigns"  # fundraising campaigns and their running totals
NAMESPACES = (CATALOGUE, SLOTS, CAMPAIGNS)

_lost = threading.Event()  # a change this process could not write to the cache


def version_key(namespace: str) -> str:
    return f"readcache:version:{namespace}"


def new_version() -> str:
    """Random, and stamped with when it was made (``changed_at``)."""
    return f"{time.time():.3f}-{secrets.token_hex(6)}"


def changed_at(found: Iterable[str]) -> float:
    """When the newest of these versions was made (epoch seconds)."""
    return max((float(version.split("-", 1)[0]) for version in found), default=time.time())


def _new_versions(namespaces: Iterable[str]) -> None:
    cache.set_many({version_key(name): new_version() for name in namespaces}, None)
    if breaker.down:
        _lost.set()


def changed(*namespaces: str, using: str | None = None) -> None:
    """Give these namespaces new versions when the current transaction commits (at once
    outside one); nothing if it rolls back."""
    unknown = set(namespaces) - set(NAMESPACES)
    if unknown:
        raise ValueError(f"Unknown read cache namespaces: {sorted(unknown)}")
    _when_committed(lambda: _new_versions(namespaces), using)


def _when_committed(callback: Any, using: str | None) -> None:
    transaction.on_commit(callback, using=using)


def versions(namespaces: Iterable[str]) -> tuple[str, ...] | None:
    """The current version of each namespace, or ``None`` when the cache cannot be used (the
    caller then reads the database and stores nothing)."""
    if breaker.down:
        return None
    if _lost.is_set():
        _lost.clear()
        _new_versions(NAMESPACES)
        if breaker.down:
            return None
    keys = [version_key(name) for name in namespaces]
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        for key in missing:  # first use, or the cache lost them: any new value will do
            cache.add(key, new_version(), None)
        found.update(cache.get_many(missing))
        if any(key not in found for key in keys):
            return None  # unreachable meanwhile
    return tuple(str(found[key]) for key in keys)


def forget_lost_changes() -> None:
    """As at start-up (for tests)."""
    _lost.clear()


def watch(namespace: str, *models: type[Model]) -> None:
    """Saving or deleting one of these models changes ``namespace``."""

    def receiver(sender: type[Model], using: str | None = None, **kwargs: Any) -> None:
        changed(namespace, using=using)

    for model in models:
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            signal.connect(
                receiver,
                sender=model,
                weak=False,
                dispatch_uid=f"readcache:{namespace}:{model._meta.label}:{name}",
            )
