"""One refresh token presented by eight requests at once rotates once, on PostgreSQL.

Real threads (one connection each) call ``/api/v1/auth/token/refresh/`` together after a
barrier. Writing the rotation is slowed down (``slow_rotation``), in the real run as in the
control, so that the requests overlap between reading the token's state and writing it. With
the locks (the user's row, then the token's) they queue: one 200, seven 401. The control run
takes the locks away and shows the race the locks close: several requests find the token
unused, and all but one then fail on the database's unique constraints (409 ``conflict``)
instead of being told the token was used. (The constraints stop a second rotation, so no
control can show two 200s; the mutation that removes the locks fails the real run instead.)
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.support.audit.models import AuditEvent
from apps.support.security import services
from apps.support.security.models import RefreshTokenRotation
from tests.factories import UserFactory
from tests.race import another_transaction_waits_for_a_lock, lock_waits_bounded_by

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REFRESH = "/api/v1/auth/token/refresh/"
REQUESTS = 8
WINDOW = 0.3  # seconds between reading the token's state and blacklisting it


@pytest.fixture
def slow_rotation(monkeypatch):
    """Blacklisting a token during a refresh (the first write after the reads) waits first."""
    manager = BlacklistedToken.objects
    create = manager.create

    def slowly(**fields):
        time.sleep(WINDOW)
        return create(**fields)

    monkeypatch.setattr(manager, "create", slowly)


def without_the_locks(monkeypatch):
    """The refresh as it would be without its row locks: plain reads."""

    class Unlocked:
        def __getattr__(self, name):
            return getattr(OutstandingToken.objects, name)

        def select_for_update(self, **kwargs):
            return OutstandingToken.objects.all()

    class UnlockedOutstandingToken:
        objects = Unlocked()

    monkeypatch.setattr(services, "_lock_sessions", lambda user_id: None)
    monkeypatch.setattr(services, "OutstandingToken", UnlockedOutstandingToken)


def refresh_token_for(user) -> str:
    return str(RefreshToken.for_user(user))


def refresh_at_once(token: str) -> list[tuple[int, str]]:
    Client().get("/health/live/")  # middleware set up once, before the threads
    together = threading.Barrier(REQUESTS)

    def refresh(_index):
        client = Client()
        together.wait(timeout=30)
        try:
            response = client.post(REFRESH, {"refresh": token}, content_type="application/json")
            body = response.json()
            return response.status_code, body.get("code", "new pair" if "access" in body else "")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        return sorted(pool.map(refresh, range(REQUESTS), timeout=60))


def test_eight_refreshes_of_one_token_at_once_rotate_it_once(slow_rotation):
    user = UserFactory()
    token = refresh_token_for(user)

    outcomes = refresh_at_once(token)

    assert outcomes == [(200, "new pair")] + [(401, "token_not_valid")] * (REQUESTS - 1)
    assert OutstandingToken.objects.filter(user=user).count() == 2  # the first and one new
    assert RefreshTokenRotation.objects.count() == 1
    # Each late request is a replay of a rotated token: it revokes the user's sessions.
    assert AuditEvent.objects.filter(action="security.refresh_token.reused").count() == (
        REQUESTS - 1
    )


def test_control_without_the_locks_several_requests_pass_the_check(slow_rotation, monkeypatch):
    without_the_locks(monkeypatch)
    user = UserFactory()
    token = refresh_token_for(user)

    outcomes = refresh_at_once(token)

    assert outcomes.count((200, "new pair")) == 1  # the unique constraints allow no second
    # Requests that also found the token unused crashed into the first one's writes.
    assert outcomes.count((409, "conflict")) >= 1, outcomes
    assert OutstandingToken.objects.filter(user=user).count() == 2


PAUSE_LIMIT = 15.0  # seconds any step of the interleaving below may wait (never hangs)


def test_a_sign_out_everywhere_during_a_refresh_leaves_no_session_behind(monkeypatch):
    """The refresh is paused after its reads, inside its transaction; the user signs out
    everywhere meanwhile. The sign-out waits for the refresh (the user's row lock), then
    revokes the pair it issued too."""
    user = UserFactory()
    token = refresh_token_for(user)
    reads_done, go = threading.Event(), threading.Event()
    manager = BlacklistedToken.objects
    create = manager.create

    def paused(**fields):
        reads_done.set()
        if not go.wait(timeout=PAUSE_LIMIT):
            raise TimeoutError("the refresh was never let go")
        return create(**fields)

    monkeypatch.setattr(manager, "create", paused)

    issued: list[str] = []

    def refresh():
        try:
            issued.append(services.token_refresh(refresh=token)["refresh"])
            return "new pair"
        except Exception as error:  # reported in the assertion below
            return f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()

    def sign_out_everywhere():
        try:
            lock_waits_bounded_by(PAUSE_LIMIT)  # the wait is the point here, not its limit
            services.auth_logout(user=user, refresh=token, everywhere=True)
            return "signed out"
        except Exception as error:  # reported in the assertion below
            return f"{type(error).__name__}: {error}"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            refreshing = pool.submit(refresh)
            assert reads_done.wait(timeout=PAUSE_LIMIT), "the refresh never read the token"
            signing_out = pool.submit(sign_out_everywhere)
            deadline = time.monotonic() + PAUSE_LIMIT
            while not signing_out.done() and not another_transaction_waits_for_a_lock():
                assert time.monotonic() < deadline, "the sign-out neither ended nor waited"
                time.sleep(0.01)
            sign_out_waited = not signing_out.done()
        finally:
            go.set()
        outcome = (refreshing.result(timeout=PAUSE_LIMIT), signing_out.result(timeout=PAUSE_LIMIT))

    assert (outcome, sign_out_waited) == (("new pair", "signed out"), True)
    assert (
        list(
            OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).values_list(
                "token", flat=True
            )
        )
        == []
    )
    with pytest.raises(services.AuthenticationError):
        services.token_refresh(refresh=issued[0])
