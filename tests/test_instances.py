"""Several instances of the service behind a real reverse proxy, as a park that scales out runs
it: three gunicorn instances with production settings on one PostgreSQL (the test's database)
and one Redis, behind Debian's nginx started by the test.

- A write through one instance is read through another at once (the shared read cache,
  docs/adr/0043), and an ETag given by one is honoured by another.
- A visitor signs in through one instance, buys through another and pays; the gate checks the
  ticket in through a third; the sign-in lockout counts failures across all of them; an
  Idempotency-Key replayed on another instance answers the stored response.
- One instance is killed with SIGKILL while visitors buy through the proxy: every purchase a
  visitor was told succeeded is in the database, seats sold equal tickets issued, and the
  audit trail verifies.
"""

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
import redis
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from apps.business.payments.models import Order
from apps.business.tickets.models import Ticket, TimeSlot
from apps.business.wildlife.models import Species
from apps.support.common.idempotency import RETRYABLE_CONFLICTS
from apps.support.security.models import User
from apps.support.security.roles import Role
from tests.factories import SpeciesFactory, TicketTypeFactory, TimeSlotFactory
from tests.processes import database_url, kill_group, stop_group

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PASSWORD = "corales-y-tortugas-1"
START_SECONDS = 90  # a loaded 2-core machine starts three Django processes well within this
ABANDONED_SECONDS = 5
PURCHASES_EACH = 6

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="the instances share the test's database server"
    ),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def person(email: str, role: str | None = None) -> User:
    """A user whose password the instances' production hashers can check (the test settings'
    MD5 is not among them)."""
    hashed = PBKDF2PasswordHasher().encode(PASSWORD, secrets.token_hex(8), iterations=1000)
    user = User.objects.create(email=email, password=hashed, is_staff=role is not None)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


class Instance:
    """gunicorn with production settings, one worker, on a port of its own."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{name}.log"
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
                cwd=ROOT,
                env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(f"{self.url}/health/live/", timeout=2).status_code == 200
        return False

    def kill(self) -> None:
        """SIGKILL to the master and its worker at once."""
        kill_group(self.process)

    def stop(self) -> None:
        stop_group(self.process)


class Proxy:
    """nginx in front of the instances: round robin, a failed instance left out, requests
    that were never sent passed to the next one (nginx never resends a POST it has sent)."""

    def __init__(self, instances: list[Instance], work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        work.mkdir()
        servers = "\n".join(
            f"    server 127.0.0.1:{i.port} max_fails=1 fail_timeout=60s;" for i in instances
        )
        (work / "nginx.conf").write_text(
            f"""
user root;
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log {work}/access.log;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi;
  uwsgi_temp_path {work}/uwsgi;
  scgi_temp_path {work}/scgi;
  upstream parque {{
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{self.port};
    location / {{
      proxy_pass http://parque;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
      add_header X-Upstream $upstream_addr always;
    }}
  }}
}}
"""
        )
        self.error_log = work / "error.log"
        self.process = subprocess.Popen(
            [NGINX, "-p", str(work), "-c", str(work / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=(work / "stderr.log").open("w"),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health/live/", timeout=2).status_code == 200:
                    return
            if self.process.poll() is not None:
                raise AssertionError((work / "stderr.log").read_text())
            time.sleep(0.2)
        raise AssertionError("nginx did not answer")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def instances(tmp_path):
    if not os.path.exists(NGINX):
        pytest.fail("nginx is not installed (scripts/bootstrap --test-tools installs it)")
    location = settings.CACHES["default"]["LOCATION"]
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        pytest.skip("REDIS_URL is not set")
    redis_base = location.rsplit("/", 1)[0]
    env = {
        **{
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "EMAIL_", "REDIS_"))
        },
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DATABASE_URL": database_url(),
        # The test's own cache: what the test writes drops the instances' copies too.
        "REDIS_URL": location,
        "REDIS_SOCKET_TIMEOUT": "2",  # a loaded CI machine must not look like a hung Redis
        # Tasks are queued (production never runs them in the request); nobody works them.
        "CELERY_BROKER_URL": f"{redis_base}/13",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "TRUSTED_PROXY_COUNT": "1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PAYMENT_GATEWAYS": "sandbox",
        "PAYMENTS_SANDBOX_WEBHOOK_SECRET": secrets.token_urlsafe(32),
        "SELLER_LEGAL_NAME": "Parque Marino (test)",
        "SELLER_TAX_ID": "0-000-000000",
        "SELLER_ADDRESS": "127.0.0.1",
        "GUNICORN_WORKERS": "1",
        # A key claimed by a request the dead instance never answered is free again soon
        # (production: 5 minutes), so the visitors' retries finish within the test.
        "IDEMPOTENCY_ABANDONED_SECONDS": str(ABANDONED_SECONDS),
        # Likewise a payment attempt whose call died with the instance is asked again soon
        # (production: 2 minutes, above three times the gateway timeout).
        "PAYMENTS_GATEWAY_TIMEOUT": "1",
        "PAYMENTS_ATTEMPT_ABANDONED_SECONDS": str(ABANDONED_SECONDS),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    started = [Instance(name, env, tmp_path) for name in ("one", "two", "three")]
    try:
        deadline = time.monotonic() + START_SECONDS
        while not all(instance.ready() for instance in started):
            assert time.monotonic() < deadline, "the instances did not start"
            time.sleep(0.3)
        yield started
    finally:
        for instance in started:
            instance.stop()
        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()


@pytest.fixture
def proxy(instances, tmp_path):
    front = Proxy(instances, tmp_path / "nginx")
    yield front
    front.stop()


def sign_in(base: str, email: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/auth/token/", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access']}"}


SPECIES = "/api/v1/wildlife/species/"


def test_a_write_through_one_instance_is_read_through_the_others(instances):
    one, two, three = instances
    species = Species.objects.get(pk=SpeciesFactory(common_name_en="Manatee").pk)
    curator = person("curator@example.org", Role.CURATOR)

    # Each instance is called directly, with the public host a proxy would pass on.
    public = {"Host": "localhost"}
    first = httpx.get(f"{one.url}{SPECIES}", headers=public, timeout=30)
    second = httpx.get(f"{two.url}{SPECIES}", headers=public, timeout=30)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == (
        "MISS",
        "HIT",
    )  # one Redis for all
    assert second.content == first.content
    tag = first.headers["ETag"]
    revalidated = httpx.get(f"{three.url}{SPECIES}", headers=public | {"If-None-Match": tag})
    assert revalidated.status_code == 304

    changed = httpx.patch(
        f"{three.url}{SPECIES}{species.pk}/",
        json={"common_name_en": "West Indian manatee"},
        headers=sign_in(three.url, curator.email),
        timeout=30,
    )
    assert changed.status_code == 200, changed.text

    for instance in (one, two):  # the very next read, on every other instance
        after = httpx.get(
            f"{instance.url}{SPECIES}", headers=public | {"If-None-Match": tag}, timeout=30
        )
        assert after.status_code == 200
        assert [row["common_name_en"] for row in after.json()["results"]] == ["West Indian manatee"]
    # And a write the test makes itself (the back office, a script) the same way.
    species.common_name_en = "Antillean manatee"
    species.save()
    after = httpx.get(f"{two.url}{SPECIES}", headers=public, timeout=30)
    assert [row["common_name_en"] for row in after.json()["results"]] == ["Antillean manatee"]


def test_a_visitor_crosses_instances_and_one_instance_dies_mid_run(instances, proxy):
    slot = TimeSlotFactory(capacity=500)
    adult = TicketTypeFactory()
    person("ana@example.org")
    person("gate@example.org", Role.GATE_STAFF)
    person("mallory@example.org")
    client = httpx.Client(base_url=proxy.url, timeout=60)
    served: list[str] = []

    def call(method: str, path: str, **kwargs) -> httpx.Response:
        answer = client.request(method, path, **kwargs)
        served.append(answer.headers.get("X-Upstream", ""))
        return answer

    # Signed in through one instance, bought through the next, paid through the one after.
    token = call(
        "POST", "/api/v1/auth/token/", json={"email": "ana@example.org", "password": PASSWORD}
    )
    assert token.status_code == 200, token.text
    ana = {"Authorization": f"Bearer {token.json()['access']}"}
    lines = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 2}]}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    created = call("POST", "/api/v1/payments/orders/", json=lines, headers=ana | key)
    assert created.status_code == 201, created.text
    # The same key again, answered by another instance: the stored answer, nothing new.
    replayed = call("POST", "/api/v1/payments/orders/", json=lines, headers=ana | key)
    assert (replayed.status_code, replayed.json()) == (201, created.json())
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert served[-1] != served[-2]
    order = created.json()
    paid = call(
        "POST",
        f"/api/v1/payments/orders/{order['id']}/pay/",
        json={"gateway": "sandbox"},
        headers=ana,
    )
    assert (paid.status_code, paid.json()["status"]) == (200, "paid"), paid.text
    tickets = call("GET", "/api/v1/tickets/tickets/", headers=ana).json()["results"]
    assert len(tickets) == 2
    gate = sign_in(proxy.url, "gate@example.org")
    checked = call(
        "POST",
        "/api/v1/tickets/check-ins/",
        json={"code": tickets[0]["code"], "gate": "Norte"},
        headers=gate,
    )
    assert checked.status_code == 201, checked.text
    again = call(
        "POST",
        "/api/v1/tickets/check-ins/",
        json={"code": tickets[0]["code"], "gate": "Sur"},
        headers=gate,
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_checked_in")
    assert set(served) == {f"127.0.0.1:{instance.port}" for instance in instances}

    # The lockout counts failures wherever they land: the wrong passwords go to the three
    # instances in turn, the one that reaches the limit is refused, and so is the right one.
    limit = settings.AXES_FAILURE_LIMIT
    wrong = [
        call(
            "POST",
            "/api/v1/auth/token/",
            json={"email": "mallory@example.org", "password": "not-the-password"},
        ).status_code
        for _ in range(limit)
    ]
    assert wrong == [401] * (limit - 1) + [429]
    assert len(set(served[-limit:])) == 3
    locked = call(
        "POST", "/api/v1/auth/token/", json={"email": "mallory@example.org", "password": PASSWORD}
    )
    assert (locked.status_code, locked.json()["code"]) == (429, "locked_out")

    # Visitors buy through the proxy; one instance dies in the middle.
    buyers, told_created, told_paid = buy_while_an_instance_dies(proxy, instances[1], slot, adult)

    # Every visitor got every purchase through, retrying as a client should.
    assert len(told_paid) == len(buyers) * PURCHASES_EACH
    assert Order.objects.filter(pk__in=told_created).count() == len(told_created)
    # What the database holds as paid for them is exactly what they were told: nothing lost,
    # nothing paid twice behind their backs (an order the dead instance created but never
    # answered for stays unpaid and expires).
    assert sorted(
        Order.objects.filter(user__in=buyers, status="paid").values_list("pk", flat=True)
    ) == sorted(told_paid)
    paid_orders = Order.objects.filter(pk__in=told_paid)
    assert sorted(paid_orders.filter(status="paid").values_list("pk", flat=True)) == sorted(
        told_paid
    )
    assert Ticket.objects.filter(order__in=told_paid).count() == len(told_paid)
    sold = TimeSlot.objects.get(pk=slot.pk).sold
    issued = Ticket.objects.filter(slot=slot).count()
    assert sold == issued  # whatever the dead instance left half done
    assert issued == 2 + len(told_paid)  # Ana's two, and one for each purchase told paid
    call_command("audit_verify")


def buy_while_an_instance_dies(
    proxy: Proxy, victim: Instance, slot, adult
) -> tuple[list[User], list[int], list[int]]:
    """Six visitors buy one ticket after another through the proxy, retrying with the same
    Idempotency-Key whatever says "try again" (a 502 from the proxy, a dropped connection, a
    409 busy or key in use); the victim is killed once a few purchases went through. The
    buyers, the ids of the orders they were told were created, and of those told paid."""
    buyers = [person(f"buyer{n}@example.org") for n in range(6)]
    headers = {buyer.pk: sign_in(proxy.url, buyer.email) for buyer in buyers}
    told_created: list[int] = []
    told_paid: list[int] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + 240
    killed = threading.Event()

    def attempt(
        client: httpx.Client, path: str, body: dict, auth: dict
    ) -> tuple[httpx.Response | None, int]:
        """The answer that is not "try again" (``None`` if none came) and how many tries."""
        key = {"Idempotency-Key": str(uuid.uuid4())}
        for tries in range(1, 101):
            try:
                answer = client.post(path, json=body, headers=auth | key)
            except httpx.TransportError:
                with lock:
                    outcomes["dropped"] += 1
                time.sleep(0.2)
                continue
            code = answer.json().get("code") if answer.status_code == 409 else None
            if answer.status_code not in (502, 503, 504) and code not in RETRYABLE_CONFLICTS:
                return answer, tries
            with lock:
                outcomes[f"retried {answer.status_code} {code or ''}".strip()] += 1
            time.sleep(0.25)
        return None, 100

    def visitor(auth: dict) -> None:
        with httpx.Client(base_url=proxy.url, timeout=60) as client:
            for _ in range(PURCHASES_EACH):
                if time.monotonic() > stop_at:
                    return
                body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]}
                created, _tries = attempt(client, "/api/v1/payments/orders/", body, auth)
                if created is None or created.status_code != 201:
                    with lock:
                        outcomes[f"order {getattr(created, 'status_code', 'lost')}"] += 1
                    continue
                order_id = created.json()["id"]
                with lock:
                    told_created.append(order_id)
                paid, tries = attempt(
                    client,
                    f"/api/v1/payments/orders/{order_id}/pay/",
                    {"gateway": "sandbox"},
                    auth,
                )
                code = (
                    paid.json().get("code") if paid is not None and paid.status_code == 409 else ""
                )
                if paid is not None and paid.status_code == 200:
                    assert paid.json()["status"] == "paid"
                    with lock:
                        told_paid.append(order_id)
                        outcomes["paid before the kill" if not killed.is_set() else "paid"] += 1
                elif code == "order_already_paid" and tries > 1:
                    # An earlier try paid it on the instance that died before answering (its
                    # key claim lapsed, so the retry ran again): the visitor learns it is paid.
                    with lock:
                        told_paid.append(order_id)
                        outcomes["paid (already, after a retry)"] += 1
                else:
                    with lock:
                        outcomes[f"pay {getattr(paid, 'status_code', 'lost')} {code}".strip()] += 1

    threads = [threading.Thread(target=visitor, args=(headers[b.pk],)) for b in buyers]
    for thread in threads:
        thread.start()
    while len(told_paid) < 6 and time.monotonic() < stop_at:
        time.sleep(0.05)
    victim.kill()
    killed.set()
    for thread in threads:
        thread.join(timeout=120)
    print(f"Purchases while an instance died: {dict(outcomes)}")  # noqa: T201
    assert outcomes["paid before the kill"] >= 6
    assert outcomes["paid"] >= 6, outcomes  # the others went on serving
    # Nothing but purchases and retries: no answer a client could not act on.
    assert {
        name for name in outcomes if not name.startswith(("paid", "retried", "dropped"))
    } == set(), outcomes
    return buyers, told_created, told_paid
