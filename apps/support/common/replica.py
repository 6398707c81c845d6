"""An optional read replica for the public catalogue's reads (docs/adr/0045).

With ``DATABASE_REPLICA_URL`` set, the database alias ``replica`` exists and the reads of a
cached public view (``api.conditional.CachedReadMixin``) that misses the cache go there —
but only when what it shows has not changed for ``DATABASE_REPLICA_LAG_SECONDS`` (the read
cache's versions say when it last changed), so that a write is read back from the primary
until the replica has surely replayed it. Every other read, and every write, goes to
``DATABASE_URL``.

A replica that fails (down, refusing, mid-failover) costs the read one failed attempt: it is
read again from the primary, the process reads only the primary for ``RETRY_SECONDS``, and
the failure is logged once a minute. A hung replica costs at most its connect timeout or
statement timeout (the settings give it short ones).

Reads are routed to the replica only inside ``reads()``, which views enter around a handler
that writes nothing; a write attempted there is refused (``ReplicaReadOnly``): it would mean
a read before it came from the replica. Inside a transaction reads stay on the primary.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import monotonic
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

_reading = ContextVar("replica_reads", default=False)
logger = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 60.0
RETRY_SECONDS = 30.0  # after a failure, this process reads the primary this long
_logged_at = [-LOG_EVERY_SECONDS]
_skip_until = [0.0]


class ReplicaReadOnly(RuntimeError):
    """A write inside ``reads()``: the view must not read from the replica."""


def alias() -> str:
    """The replica's alias, or ``""`` when none is configured or it failed a moment ago."""
    if monotonic() < _skip_until[0]:
        return ""
    return str(getattr(settings, "READ_REPLICA_ALIAS", ""))


@contextmanager
def reads() -> Iterator[None]:
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def unavailable(error: BaseException) -> None:
    """A read failed on the replica (the caller reads the primary instead): the process
    leaves the replica alone for ``RETRY_SECONDS``; logged at most once a minute."""
    now = monotonic()
    _skip_until[0] = now + RETRY_SECONDS
    if now - _logged_at[0] >= LOG_EVERY_SECONDS:
        _logged_at[0] = now
        logger.error("The read replica failed (%s): reading from the primary instead.", error)


class ReplicaRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        replica = alias()
        if replica and _reading.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return replica
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        if _reading.get():  # whatever the configuration: reads() promises no write
            raise ReplicaReadOnly(f"A write of {model.__name__} while reading from the replica.")
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == DEFAULT_DB_ALIAS  # the replica copies the primary's schema
