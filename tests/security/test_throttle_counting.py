"""A request is counted in one Redis call, atomically (docs/adr/0055).

DRF's throttle reads a client's history and writes it back: two calls, and two requests of one
client at once can both read the same history, so that one of them is not counted. The
throttles of ``api.throttling`` count on Redis with one script; other caches keep DRF's way.
"""

import pickle
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.test import override_settings
from rest_framework.throttling import UserRateThrottle

from api import throttling
from apps.support.common import cache as guarded

pytestmark = pytest.mark.django_db

CLOCK = 1_800_000_000.0


def needs_redis() -> None:
    if not hasattr(cache, "client"):
        pytest.skip("counted in one call on Redis only (REDIS_URL)")


@pytest.fixture
def rate(settings):
    def set_rate(value: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "user": value,
            },
        }

    return set_rate


def request_of(user_id: int) -> Any:
    user = SimpleNamespace(pk=user_id, is_authenticated=True)
    return SimpleNamespace(user=user, META={"REMOTE_ADDR": "203.0.113.9"})


def throttle_at(now: float) -> throttling.UserThrottle:
    throttle = throttling.UserThrottle()
    throttle.timer = lambda: now
    return throttle


def raw_redis() -> Any:
    return cache.client.get_client(write=True)


def test_one_call_per_request_and_the_window_slides(rate, monkeypatch):
    needs_redis()
    rate("3/minute")
    sends = []
    original = guarded.Guarded.send_packed_command

    def counted(self, command, check_health=True):
        sends.append(command)
        return original(self, command, check_health)

    throttling.UserThrottle().allow_request(request_of(1), None)  # the script loaded
    cache.clear()
    monkeypatch.setattr(guarded.Guarded, "send_packed_command", counted)
    answers = [
        throttle_at(CLOCK + second).allow_request(request_of(7), None) for second in (0, 1, 2)
    ]
    assert answers == [True, True, True]
    assert len(sends) == 3  # one EVALSHA each: no read, then write
    refused = throttle_at(CLOCK + 10)
    assert refused.allow_request(request_of(7), None) is False
    assert refused.wait() == 50.0  # the oldest request leaves the window at CLOCK + 60
    # Another client is counted apart; the first one's oldest request leaves the window.
    assert throttle_at(CLOCK + 10).allow_request(request_of(8), None) is True
    assert throttle_at(CLOCK + 60).allow_request(request_of(7), None) is True
    assert throttle_at(CLOCK + 60.5).allow_request(request_of(7), None) is False
    key = cache.make_key("throttle_user_7")
    assert raw_redis().zcard(key) == 3
    assert 0 < raw_redis().ttl(key) <= 60


def test_requests_at_once_are_each_counted(rate):
    needs_redis()
    rate("30/minute")
    threads, start, allowed = 16, threading.Barrier(16), []
    lock = threading.Lock()

    def client() -> None:
        start.wait()
        for _ in range(8):
            answer = throttle_at(CLOCK).allow_request(request_of(5), None)
            with lock:
                allowed.append(answer)

    runners = [threading.Thread(target=client) for _ in range(threads)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert allowed.count(True) == 30
    assert allowed.count(False) == 16 * 8 - 30
    assert raw_redis().zcard(cache.make_key("throttle_user_5")) == 30


def test_control_drfs_read_then_write_lets_a_request_through_uncounted(rate, monkeypatch):
    """The bug the script prevents, forced: two requests read the same history before either
    writes it back; with one request allowed a minute, both pass."""
    rate("1/minute")
    both_read = threading.Barrier(2)
    backend = type(caches["default"])  # each thread has its own instance
    original_get = backend.get

    def get_then_wait(self, key, default=None, version=None):
        found = original_get(self, key, default, version)
        both_read.wait(timeout=30)
        return found

    class DrfThrottle(UserRateThrottle):
        rate = "1/minute"
        timer = staticmethod(lambda: CLOCK)

    monkeypatch.setattr(backend, "get", get_then_wait)
    answers: list[bool] = []
    runners = [
        threading.Thread(
            target=lambda: answers.append(DrfThrottle().allow_request(request_of(6), None))
        )
        for _ in range(2)
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    assert answers == [True, True]


def test_a_history_written_by_drfs_throttle_is_replaced(rate):
    needs_redis()
    rate("2/minute")
    key = cache.make_key("throttle_user_9")
    raw_redis().set(key, pickle.dumps([CLOCK, CLOCK]), ex=60)
    assert throttle_at(CLOCK).allow_request(request_of(9), None) is True
    assert raw_redis().type(key) == b"zset"
    assert raw_redis().zcard(key) == 1


def test_unreachable_redis_lets_requests_through_uncounted(rate, monkeypatch):
    needs_redis()
    rate("1/minute")

    def unreachable(self, *args, **kwargs):
        raise guarded.CacheSkipped("down")

    monkeypatch.setattr(guarded.Guarded, "send_packed_command", unreachable)
    assert [throttle_at(CLOCK).allow_request(request_of(4), None) for _ in range(3)] == [
        True,
        True,
        True,
    ]


def test_other_caches_count_as_drf_does(rate):
    rate("2/minute")
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ):
        answers = [throttle_at(CLOCK).allow_request(request_of(3), None) for _ in range(3)]
        assert answers == [True, True, False]
        refused = throttle_at(CLOCK + 15)
        assert refused.allow_request(request_of(3), None) is False
        assert refused.wait() == 45.0
        assert cache.get("throttle_user_3") == [CLOCK, CLOCK]
