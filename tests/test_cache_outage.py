"""Redis down or hung: the API serves from the database, a hung Redis costs one short timeout
per process and retry period, the outage is logged once, /health/ready/ says "degraded",
throttling lets requests through and the sign-in lockout still holds (docs/adr/0038).

Each test runs its own redis-server on a free port, stopped with SIGSTOP (hung: connections
are accepted by the kernel, nothing answers) or killed (connections refused)."""

import logging
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis
from django.core.cache import cache

from apps.business.wildlife.models import Species
from apps.support.common.cache import breaker
from config.settings.base import redis_cache
from tests.factories import SpeciesFactory

from .security.test_lockout import PASSWORD, login

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

SPECIES = "/api/v1/wildlife/species/"


class RedisServer:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(port=self.port, socket_timeout=2)
        for _ in range(100):
            try:
                if self.client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def hang(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def keys(self) -> list[str]:
        return sorted(key.decode() for key in self.client.keys("*"))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.resume()
            self.process.kill()
            self.process.wait()


@pytest.fixture
def own_redis(settings):
    server = RedisServer()
    # 1 s, not production's 0.25 s: a busy machine must not make the live Redis look hung.
    settings.CACHES = {"default": redis_cache(server.url, timeout=1.0)}
    settings.CACHE_RETRY_SECONDS = 60  # the breaker stays open unless a test moves the clock
    breaker.reset()
    yield server
    server.stop()


@pytest.fixture
def network(monkeypatch):
    """Counts what reaches Redis's socket: connections opened and commands sent."""
    from redis.connection import AbstractConnection

    counts = {"connects": 0, "sends": 0}
    connect, send = AbstractConnection.connect, AbstractConnection.send_packed_command

    def counted_connect(self):
        if self._sock is None:
            counts["connects"] += 1
        return connect(self)

    def counted_send(self, command, check_health=True):
        counts["sends"] += 1
        return send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "connect", counted_connect)
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted_send)
    return counts


def minute_later(monkeypatch) -> None:
    """The breaker's clock, 61 s on: its open period (60 s here) is over."""
    from apps.support.common import cache as guarded

    now = guarded.clock()
    monkeypatch.setattr(guarded, "clock", lambda: now + 61)


def outage_lines(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "apps.support.common.cache"
    ]


def test_a_hung_cache_costs_one_timeout_and_the_api_answers_from_the_database(
    own_redis, api_client, settings, caplog, monkeypatch, network
):
    SpeciesFactory()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "1000/minute",
        },
    }
    before = api_client.get(SPECIES)
    assert before.status_code == 200
    # The anonymous throttle counted the request in this Redis, which keeps a copy of the
    # answer under the catalogue's version.
    keys = own_redis.keys()
    assert [key for key in keys if not key.startswith("parque-marino:1:readcache:read:")] == [
        "parque-marino:1:readcache:version:catalogue",
        "parque-marino:1:throttle_anon_127.0.0.1",
    ]
    assert len(keys) == 3

    own_redis.hang()
    caplog.set_level(logging.WARNING, logger="apps.support.common.cache")
    network.update(connects=0, sends=0)
    answers = [api_client.get(SPECIES) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert {answer.content for answer in answers} == {before.content}
    # Only the first cache call reached Redis (and waited for its timeout); every later one
    # was skipped without a network call while the breaker is open.
    assert network == {"connects": 0, "sends": 1}
    assert breaker.trips == 1
    assert breaker.down
    lines = outage_lines(caplog)
    assert len(lines) == 1
    assert lines[0].startswith(
        "The cache (Redis) is unavailable (Timeout reading from socket): serving without it"
    )

    ready = api_client.get("/health/ready/")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "unavailable",
        "storage": "ok",
    }
    assert body["checks"]["cache"]["error"] == (
        "Unavailable: Unreachable: serving without the cache"
    )
    assert network == {"connects": 0, "sends": 1}

    # Redis answers again: after the retry period the next call tries, finds it and the
    # requests are counted there again.
    own_redis.resume()
    minute_later(monkeypatch)
    assert api_client.get(SPECIES).status_code == 200
    assert not breaker.down
    assert outage_lines(caplog)[-1].startswith("The cache (Redis) answers again after")
    assert api_client.get("/health/ready/").json()["status"] == "ok"


def test_a_stopped_cache_refuses_connections_and_nothing_waits(
    own_redis, api_client, caplog, network
):
    SpeciesFactory()
    own_redis.stop()
    network.update(connects=0, sends=0)
    caplog.set_level(logging.WARNING, logger="apps.support.common.cache")
    assert [api_client.get(SPECIES).status_code for _ in range(3)] == [200, 200, 200]
    assert network == {"connects": 1, "sends": 0}
    assert breaker.trips == 1
    assert len(outage_lines(caplog)) == 1
    assert "Connection refused" in outage_lines(caplog)[0]


def test_throttling_lets_requests_through_while_the_cache_is_down(
    own_redis, api_client, settings, monkeypatch
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "2/minute",
        },
    }
    assert [api_client.get(SPECIES).status_code for _ in range(3)] == [200, 200, 429]
    own_redis.hang()
    # Rates cannot be counted without the cache: requests pass (the documented direction).
    assert [api_client.get(SPECIES).status_code for _ in range(3)] == [200, 200, 200]
    own_redis.resume()
    minute_later(monkeypatch)
    # Back: the count kept in Redis applies again.
    assert api_client.get(SPECIES).status_code == 429


def test_the_sign_in_lockout_holds_while_the_cache_is_down(own_redis, api_client, user):
    own_redis.hang()
    for attempt in range(4):
        assert login(api_client, user.email, "wrong-password").status_code == 401, attempt
    assert login(api_client, user.email, "wrong-password").status_code == 429
    locked = login(api_client, user.email, PASSWORD)
    assert (locked.status_code, locked.json()["code"]) == (429, "locked_out")
    assert breaker.trips == 1
    assert cache.get("anything") is None


def test_a_change_made_while_the_cache_was_away_is_read_when_it_is_back(
    own_redis, api_client, monkeypatch
):
    species = Species.objects.get(pk=SpeciesFactory(common_name_en="Manatee").pk)
    assert api_client.get(SPECIES)["X-Cache"] == "MISS"
    assert api_client.get(SPECIES)["X-Cache"] == "HIT"

    own_redis.hang()
    assert "X-Cache" not in api_client.get(SPECIES)  # found hung: the breaker opens
    species.common_name_en = "West Indian manatee"
    species.save()  # its new catalogue version is not even sent: the breaker is open
    during = api_client.get(SPECIES)
    assert [row["common_name_en"] for row in during.json()["results"]] == ["West Indian manatee"]
    assert "X-Cache" not in during  # read from the database, nothing kept

    own_redis.resume()
    minute_later(monkeypatch)
    # The copy from before the change is still in Redis; this process renews every version
    # before it reads one, so it is never served again.
    after = api_client.get(SPECIES)
    assert [row["common_name_en"] for row in after.json()["results"]] == ["West Indian manatee"]
    assert after["X-Cache"] == "MISS"
    assert api_client.get(SPECIES)["X-Cache"] == "HIT"
