"""A harness that races many buyers through the real HTTP API from several OS processes.

Each process forks from the test (inheriting its settings, test database and any
monkeypatching), starts its share of threads, and every thread — one database connection each —
waits at one barrier with the threads of every process and the parent, then calls the API
through Django's test client with its own bearer token. Answers come back over a queue. Nothing
in it is timed: on a loaded machine the race only takes longer (clients retry ``busy`` for
``RETRY_FOR_SECONDS``).

Where an interleaving must happen for a control run to show its bug, it is forced by events,
not timed windows (``wait_for_rival``): a racer that has passed its check waits until a rival
has passed it too, or is seen waiting for the lock under test.
"""

import contextlib
import fcntl
import math
import multiprocessing
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.db import OperationalError, connection, connections
from django.test import Client

from apps.support.common.errors import ConflictError
from apps.support.common.locking import BUSY, is_lock_failure

Action = Callable[[Client], tuple[str, int, str]]

# How long a well-behaved client keeps retrying "busy": far beyond what any run needs on a
# quiet machine, so that a loaded one (CI) only makes the race slower, never different.
RETRY_FOR_SECONDS = 240

# One race at a time on this machine, whatever runs it: a race opens up to about 85 database
# connections at once, and two of them side by side (two pytest-xdist workers, or two test runs
# on one PostgreSQL server) pass PostgreSQL's default max_connections (100): the buyers of both
# get "503 service_unavailable" and the tests fail. The other worker's tests go on meanwhile.
RACE_LOCK = Path(tempfile.gettempdir()) / "parque-marino-race.lock"


@contextlib.contextmanager
def one_race_at_a_time() -> Iterator[None]:
    """Holds an exclusive lock on ``RACE_LOCK`` (``flock``: released if the process dies)."""
    with RACE_LOCK.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _run_threads(actions: Sequence[Action], start: Any, queue: Any) -> None:
    results: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def worker(action: Action) -> None:
        client = Client()
        start.wait()  # every thread of every process, and the parent
        try:
            outcome = action(client)
        except Exception as error:  # reported to the test, which fails on it
            outcome = ("error", 0, "".join(traceback.format_exception(error))[-1500:])
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put(results)


def race(actions: Sequence[Action], *, processes: int = 2) -> list[tuple[str, int, str]]:
    """Run ``actions`` at the same moment, split over ``processes`` processes (one race at a
    time on this machine: ``one_race_at_a_time``)."""
    with one_race_at_a_time():
        return _race(actions, processes=processes)


def _race(actions: Sequence[Action], *, processes: int) -> list[tuple[str, int, str]]:
    # Middleware registers its metrics on first use; do it once here, not in 80 threads at once.
    Client().get("/health/live/")
    connections.close_all()  # never share a connection with a forked child
    context = multiprocessing.get_context("fork")
    # Everybody starts at once, however long a loaded machine takes to fork and spawn threads.
    start = context.Barrier(len(actions) + 1, timeout=RETRY_FOR_SECONDS)
    queue = context.Queue()
    shares = [actions[index::processes] for index in range(processes)]
    children = [
        context.Process(target=_run_threads, args=(share, start, queue)) for share in shares
    ]
    for child in children:
        child.start()
    start.wait()
    results: list[tuple[str, int, str]] = []
    for _child in children:
        results += queue.get(timeout=RETRY_FOR_SECONDS + 120)
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    return results


def post_retrying(client: Client, url: str, body: dict[str, Any], token: str) -> Any:
    """POST like a well-behaved client: wait ``Retry-After`` on 409 ``busy`` and try again."""
    give_up_at = time.monotonic() + RETRY_FOR_SECONDS
    while True:
        response = client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        busy = response.status_code == 409 and response.json().get("code") == "busy"
        if not busy or time.monotonic() > give_up_at:
            return response
        time.sleep(float(response.headers.get("Retry-After", "1")))


# A statement blocked for this long on these small tables is waiting for a lock (MySQL/MariaDB).
MYSQL_BLOCKED_MS = 50


def another_transaction_waits_for_a_lock(table: str | None = None) -> bool:
    """True while some other connection to this database waits for a lock (PostgreSQL's
    activity view; on MySQL/MariaDB, a statement blocked in the process list); with
    ``table``, only a wait in a ``SELECT … FOR UPDATE`` on that table counts (waits for the
    audit chain head, say, are no rival's)."""
    params: list[str] = []
    if connection.vendor == "mysql":
        # The process list, read fresh each time: InnoDB's own list of lock waits
        # (information_schema.INNODB_TRX) is a copy refreshed only when nobody read it for
        # 0.1 s, so a poller never sees a new wait there. A rival's statement still running
        # after MYSQL_BLOCKED_MS waits for a lock (MariaDB counts milliseconds, MySQL seconds).
        sql = (
            "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
            "AND ID <> CONNECTION_ID() AND COMMAND = 'Query' AND TIME_MS >= %s"
            if connection.mysql_is_mariadb
            else "SELECT count(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
            "AND ID <> CONNECTION_ID() AND COMMAND = 'Query' AND TIME * 1000 >= %s"
        )
        params.append(str(MYSQL_BLOCKED_MS))
        if table is not None:  # rows of that table locked, not rows joined to it
            sql += " AND INFO LIKE %s"
            params.append(f"%FROM `{table}` WHERE%FOR UPDATE%")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0] > 0
    sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database() AND pid <> pg_backend_pid()"
    )
    if table is not None:
        sql += " AND query LIKE %s"
        params.append(f'%"{table}"%FOR %UPDATE%')  # FOR UPDATE, FOR NO KEY UPDATE
    with connection.cursor() as cursor:
        # Inside a transaction PostgreSQL keeps showing the activity it saw first: look anew.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(sql, params)
        return cursor.fetchone()[0] > 0


def other_transactions_open_or_waiting() -> int:
    """How many other connections to this database are in a transaction that is idle or
    waiting for a lock (PostgreSQL), or in any open transaction (InnoDB's, MySQL/MariaDB)."""
    if connection.vendor == "mysql":
        sql = (
            "SELECT count(*) FROM information_schema.INNODB_TRX trx "
            "JOIN information_schema.PROCESSLIST process ON process.ID = trx.trx_mysql_thread_id "
            "WHERE process.DB = DATABASE() AND process.ID <> CONNECTION_ID()"
        )
    else:
        sql = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND (state LIKE 'idle in transaction%%' "
            "OR wait_event_type = 'Lock')"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        count: int = cursor.fetchone()[0]
    return count


def lock_waits_bounded_by(seconds: float, *, transaction_only: bool = False) -> None:
    """Bound this connection's lock waits by ``seconds`` (the tests' own limit instead of
    LOCK_TIMEOUT_SECONDS): PostgreSQL's ``lock_timeout`` (``transaction_only``: ``SET LOCAL``,
    for the current transaction), InnoDB's ``innodb_lock_wait_timeout`` on MySQL/MariaDB (whole
    seconds, at least one; for the session whatever ``transaction_only``, as it has no other)."""
    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute(
                "SET SESSION innodb_lock_wait_timeout = %s", [max(1, math.ceil(seconds))]
            )
        elif connection.vendor == "postgresql":
            scope = "LOCAL " if transaction_only else ""
            cursor.execute(f"SET {scope}lock_timeout = %s", [f"{int(seconds * 1000)}ms"])


def wait_for_rival(
    passed: Callable[[], bool],
    *,
    table: str | None = None,
    timeout: float = RETRY_FOR_SECONDS,
    rival_may_never_come: bool = False,
) -> None:
    """Hold a racer that has passed its check until a rival has passed it too (``passed``),
    or until a rival is seen blocked on the lock under test (the lock serialises them).

    Deterministic whatever the machine's load: no timed window decides the interleaving.
    With ``rival_may_never_come`` (the last of a crowd), a racer goes on after ``timeout``.
    """
    give_up_at = time.monotonic() + timeout
    while not passed() and not another_transaction_waits_for_a_lock(table):
        if time.monotonic() > give_up_at:
            if rival_may_never_come:
                return
            raise TimeoutError("the rival neither passed its check nor waited for a lock")
        time.sleep(0.02)


def is_busy(error: Exception) -> bool:
    """A lock not had within LOCK_TIMEOUT_SECONDS: the answer is "try again" (409 busy)."""
    if isinstance(error, ConflictError):
        return error.code == BUSY
    return isinstance(error, OperationalError) and is_lock_failure(error)


def meet_after(
    monkeypatch: Any,
    owner: Any,
    name: str,
    *,
    table: str,
    armed: bool = False,
    racers: int | None = None,
) -> Callable[[], None]:
    """Make ``owner.name`` a check that racers meet at: once it has run, a racer waits until
    a rival has run it too, or is seen waiting for a lock on ``table`` (``wait_for_rival``).
    With ``racers`` (how many run it), a racer waits until all of them have run it, or a
    rival is seen blocked: no racer of a crowd goes on after a timeout however slowly its
    rivals start (a busy machine), so even the last ones read before anyone writes.

    Without the lock under test, every racer reads the same state before any writes: the
    interleaving that shows the bug is certain, not lucky. With it, the first racer goes on as
    soon as its rival is seen blocked. Returns ``arm()``: the check meets only once armed (set
    up a test's objects first, one by one), or at once with ``armed=True``. Its state is made
    before ``race()`` forks, so every process shares it.
    """
    original = getattr(owner, name)
    context = multiprocessing.get_context("fork")
    on, readers = context.Value("b", 1 if armed else 0), context.Value("i", 0)

    def run_then_meet(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not on.value:
            return result
        with readers.get_lock():
            readers.value += 1
            mine = readers.value
        if racers is not None:
            wait_for_rival(lambda: readers.value >= racers, table=table)
        else:
            wait_for_rival(
                lambda: readers.value > mine,
                table=table,
                timeout=5,
                rival_may_never_come=True,  # the last racers of a crowd
            )
        return result

    monkeypatch.setattr(owner, name, run_then_meet)

    def arm() -> None:
        on.value = 1

    return arm
