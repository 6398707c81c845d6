"""Request rates by scope, counted in the shared cache (Redis in production).

Rates are read from settings on every request (not once at import), so operators and tests
can change them. Scopes: ``anon`` and ``user`` for everything; ``login``, ``register``,
``password_reset`` on those endpoints; modules add theirs (``purchase``, ``donation``) with
``throttle_scope`` on a view.

On Redis a request is counted in one call (docs/adr/0055): a script drops the client's
requests older than the window, counts the rest and adds this one, atomically. DRF's own
throttle reads the history, then writes it back: two round trips on every request, and two
requests of one client at once could both read the same history and count as one. The window
is DRF's (a sliding log of the last ``duration`` seconds) and so is ``Retry-After``. Other
caches (the local-memory cache of development) keep DRF's way; while Redis is unreachable,
requests pass uncounted, as with DRF's throttle (docs/adr/0038).
"""

import hashlib
import secrets
from typing import Any

from redis.exceptions import NoScriptError
from rest_framework.settings import api_settings
from rest_framework.throttling import (
    AnonRateThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

from apps.support.common.cache import FAILURES

# KEYS[1]: the client's log (a sorted set of its requests' times); ARGV: now, the window in
# seconds, the number of requests allowed in it, this request's member (unique). Answers
# {1} when counted, else {0, the time of the oldest request in the window}. A key of another
# type (DRF's pickled list, written before this script counted) is replaced.
_COUNT = """
local key = KEYS[1]
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local kind = redis.call('TYPE', key)['ok']
if kind ~= 'zset' and kind ~= 'none' then redis.call('DEL', key) end
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - duration)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('EXPIRE', key, math.ceil(duration))
  return {1}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, oldest[2]}
"""
_COUNT_SHA = hashlib.sha1(_COUNT.encode()).hexdigest()  # noqa: S324  (Redis names scripts so)


def _redis_client(cache: Any) -> Any:
    """The cache's Redis client, or ``None`` for a cache without one."""
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    return None if get_client is None else get_client(write=True)


def _count(client: Any, key: str, *args: Any) -> Any:
    try:
        return client.evalsha(_COUNT_SHA, 1, key, *args)
    except NoScriptError:  # a server that has not seen it yet (or was restarted)
        client.script_load(_COUNT)
        return client.evalsha(_COUNT_SHA, 1, key, *args)


class _CountedInOneCall(SimpleRateThrottle):
    num_requests: int
    duration: int
    oldest: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        client = _redis_client(self.cache)
        if client is None:
            return super().allow_request(request, view)
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        member = f"{self.now!r}:{secrets.token_hex(4)}"
        try:
            answer = _count(
                client,
                self.cache.make_key(self.key),
                repr(self.now),
                self.duration,
                self.num_requests,
                member,
            )
        except FAILURES:
            return True  # not counted while the cache is unreachable (docs/adr/0038)
        if answer[0] == 1:
            return True
        self.oldest = float(answer[1])
        return False

    def wait(self) -> float | None:
        if self.oldest is None:  # DRF's way: its history is at hand
            return super().wait()
        return max(0.0, self.duration - (self.now - self.oldest))


class _RatesFromSettings:
    def get_rate(self) -> Any:
        return api_settings.DEFAULT_THROTTLE_RATES.get(getattr(self, "scope", ""))


class AnonymousThrottle(_RatesFromSettings, AnonRateThrottle, _CountedInOneCall):
    """Per client IP, for requests without credentials."""


class UserThrottle(_RatesFromSettings, UserRateThrottle, _CountedInOneCall):
    """Per account, for authenticated requests (anonymous ones are AnonymousThrottle's: DRF's
    own class would count them a second time, by address)."""

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class ScopedThrottle(_RatesFromSettings, ScopedRateThrottle, _CountedInOneCall):
    """Per account or IP, for views that declare ``throttle_scope``."""

    def get_rate(self) -> Any:
        if not getattr(self, "scope", None):
            return None
        return super().get_rate()


class GuestOrderThrottle(AnonymousThrottle):
    """Orders placed by guests without an account (gifts), per address; signed-in visitors
    are not counted here."""

    scope = "guest_order"
