"""The shared cache (Redis) may go away; requests go on without it (docs/adr/0038).

What the cache holds can be done without for a while: throttling counters and, in time,
copies of what the database answers. So when Redis is unreachable or hung, the API serves from
the database instead of answering 500:

- every connection to Redis is ``Guarded``: a failure (refused, reset, or no answer
  within ``REDIS_SOCKET_TIMEOUT``) opens the process's ``breaker`` for ``CACHE_RETRY_SECONDS``,
  during which no call reaches the network at all (a hung Redis costs one timeout per process
  and period, not one per call); the first call after the period tries again;
- django-redis is told to ignore connection errors (``IGNORE_EXCEPTIONS``): a read finds
  nothing, a write is dropped;
- the outage is logged once when it starts, at most once a minute while it lasts (with the
  calls skipped meanwhile), and once when the cache answers again; ``/health/ready/`` says
  ``degraded``.
"""

import logging
import threading
from time import monotonic as clock
from typing import Any

from django.conf import settings
from redis.connection import Connection, SSLConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

FAILURES = (RedisConnectionError, RedisTimeoutError)
LOG_EVERY_SECONDS = 60.0


class CacheSkipped(RedisConnectionError):
    """Not tried: the breaker is open."""


class Breaker:
    """Whether this process leaves the cache alone for now, and the outage's log lines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._down_since: float | None = None
        self._logged_at = 0.0
        self.trips = 0  # times the cache was found unreachable (tried and failed)
        self.skipped = 0  # calls not attempted since the last log line

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def check(self) -> None:
        """Raise at once (no network) while the breaker is open."""
        if self._down_since is None or clock() >= self._open_until:
            return
        with self._lock:
            self.skipped += 1
            self._log_if_due(None)
        raise CacheSkipped("The cache is unavailable; not trying again yet.")

    def failed(self, error: BaseException) -> None:
        now = clock()
        with self._lock:
            if now < self._open_until:  # the same outage, seen again by a nested call
                return
            self.trips += 1
            self._open_until = now + float(getattr(settings, "CACHE_RETRY_SECONDS", 5.0))
            if self._down_since is None:
                self._down_since = now
                self._logged_at = 0.0
            self._log_if_due(error)

    def succeeded(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is None:
                return
            lasted = clock() - self._down_since
            self._down_since = None
            self._open_until = 0.0
            self.skipped = 0
        logger.warning("The cache (Redis) answers again after %.0f s without it.", lasted)

    def _log_if_due(self, error: BaseException | None) -> None:
        now = clock()
        if now - self._logged_at < LOG_EVERY_SECONDS:
            return
        self._logged_at = now
        logger.error(
            "The cache (Redis) is unavailable%s: serving without it (no throttling, nothing "
            "cached) and trying again every %s s; %d cache calls skipped since the last "
            "message.",
            f" ({error})" if error is not None else "",
            getattr(settings, "CACHE_RETRY_SECONDS", 5.0),
            self.skipped,
        )
        self.skipped = 0

    def reset(self) -> None:
        """Closed, as at start-up (for tests)."""
        with self._lock:
            self.__init__()  # type: ignore[misc]


breaker = Breaker()


class Guarded:
    """Mixed into a Redis connection: it reports its failures to ``breaker`` and does not
    touch the network while the breaker is open."""

    def connect(self) -> None:
        breaker.check()
        try:
            super().connect()  # type: ignore[misc]
        except FAILURES as error:
            if not isinstance(error, CacheSkipped):
                breaker.failed(error)
            raise

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        breaker.check()
        try:
            super().send_packed_command(command, check_health)  # type: ignore[misc]
        except FAILURES as error:
            if not isinstance(error, CacheSkipped):
                breaker.failed(error)
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = super().read_response(*args, **kwargs)  # type: ignore[misc]
        except FAILURES as error:
            if not isinstance(error, CacheSkipped):
                breaker.failed(error)
            raise
        breaker.succeeded()
        return response


class GuardedConnection(Guarded, Connection):
    pass


class GuardedSSLConnection(Guarded, SSLConnection):
    pass


def guarded_connection_class(url: str) -> type[Connection]:
    """The connection class of django-redis' pool for ``url`` (``rediss://`` keeps TLS)."""
    return GuardedSSLConnection if url.startswith("rediss://") else GuardedConnection
