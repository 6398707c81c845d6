"""Row locks for scarce things (seats, money), taken once, late, in a fixed order.

``lock_rows`` runs ``SELECT ... FOR UPDATE`` ordered by primary key. Every lock wait of a
connection is bounded by ``settings.LOCK_TIMEOUT_SECONDS`` (PostgreSQL's ``lock_timeout``,
MySQL's ``innodb_lock_wait_timeout``, set once per connection in the settings). A lock not had
in time raises ``ConflictError`` (code ``busy``, ``Retry-After: 1``), which the API answers
with 409: the client retries, the server never hangs and never answers 500. After pretix's
locking rules (docs/adr/0015).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import OperationalError, transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from .errors import ConflictError

if TYPE_CHECKING:
    from .statements import Compiled

ModelT = TypeVar("ModelT", bound=Model)

BUSY = "busy"
_LOCK_NOT_AVAILABLE = {"55P03", "40P01"}  # PostgreSQL: lock_not_available, deadlock_detected
_MYSQL_LOCK_ERRORS = {1205, 1213}  # lock wait timeout, deadlock


def is_lock_failure(error: OperationalError) -> bool:
    cause: Any = error.__cause__
    if getattr(cause, "sqlstate", None) in _LOCK_NOT_AVAILABLE:
        return True
    return bool(error.args) and error.args[0] in _MYSQL_LOCK_ERRORS


def lock_row_if_free(queryset: QuerySet[ModelT]) -> ModelT | None:
    """The first row of ``queryset`` locked until the transaction ends, or ``None`` when
    another transaction holds it right now (``SKIP LOCKED``: no wait at all).

    For background jobs: they must never stall or die on a row somebody is working on; they
    skip it and take it on their next run.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_row_if_free() must run inside transaction.atomic().")
    return queryset.select_for_update(skip_locked=True).order_by("pk").first()


def lock_rows(
    queryset: QuerySet[ModelT], *, no_key: bool = False, with_related: tuple[str, ...] = ()
) -> list[ModelT]:
    """The rows of ``queryset``, locked until the surrounding transaction ends.

    ``no_key``: a lock that lets other transactions insert rows referring to these (PostgreSQL's
    ``FOR NO KEY UPDATE``; a plain ``FOR UPDATE`` where the database has nothing lighter), for
    rows whose columns change but never their key.

    ``with_related``: rows these refer to (``select_related`` names), read in the same statement
    where the database can lock only the rows of ``queryset`` (``FOR UPDATE OF``: PostgreSQL,
    MySQL); elsewhere (MariaDB, whose lock would take them too) they are read when first used.
    They are read as the statement began, not as of the lock: use them for what does not
    change under a lock of these rows."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("lock_rows() must run inside transaction.atomic().")
    no_key = no_key and connection.features.has_select_for_no_key_update
    of: tuple[str, ...] = ()
    if with_related and connection.features.has_select_for_update_of:
        queryset, of = queryset.select_related(*with_related), ("self",)
    with _busy_when_not_had():
        return list(queryset.select_for_update(no_key=no_key, of=of).order_by("pk"))


def lock_compiled(statement: "Compiled[ModelT]", *values: int) -> list[ModelT]:
    """The rows of ``statement`` (a ``select_for_update()`` queryset compiled once:
    ``statements.Compiled``), locked until the surrounding transaction ends; a lock not had
    in time is answered as ``lock_rows`` answers it. For the statements every purchase runs."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_compiled() must run inside transaction.atomic().")
    with _busy_when_not_had():
        return statement(*values)


def update_locked(queryset: QuerySet[ModelT], **values: Any) -> int:
    """``queryset.update(**values)`` inside a transaction: the rows it changes stay locked until
    the transaction ends, and a lock not had in time is answered as ``lock_rows`` answers it.
    The number of rows changed. The queryset's conditions hold for each row as it is once
    locked: PostgreSQL reads again a row it waited for, and InnoDB's ``UPDATE`` reads the
    latest committed row. So a conditional update can stand for a lock, a check and a write."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("update_locked() must run inside transaction.atomic().")
    with _busy_when_not_had():
        return queryset.update(**values)


@contextmanager
def _busy_when_not_had() -> Iterator[None]:
    try:
        yield
    except OperationalError as error:
        if is_lock_failure(error):
            raise ConflictError(
                _("Many people are buying right now; please try again in a moment."),
                code=BUSY,
                retry_after=1,
            ) from error
        raise


def ensure_outside_transaction(what: str) -> None:
    """Refuse to talk to the outside world (``what``: a gateway, a mail server) inside a
    transaction: its row locks and the audit chain head would be held for the length of a
    network call. The transaction a test case wraps itself in does not count."""
    connection = transaction.get_connection()
    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        raise RuntimeError(f"{what} must be called after the transaction commits.")
