import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from apps.support.common import readcache
from apps.support.common.cache import breaker
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for

# Tables whose rows a trigger keeps (docs/adr/0044): on MySQL/MariaDB Django empties a table
# with DELETE after a test with real transactions, which the trigger refuses. TRUNCATE fires no
# trigger (PostgreSQL's flush truncates every table already).
TABLES_KEPT_BY_TRIGGERS = ("audit_auditevent", "invoicing_invoice")


def _truncating_kept_tables(sql_flush):
    """Django's MySQL ``sql_flush``, but TRUNCATE for the tables kept by triggers."""

    def flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        kept = [table for table in tables if table in TABLES_KEPT_BY_TRIGGERS]
        others = [table for table in tables if table not in TABLES_KEPT_BY_TRIGGERS]
        statements = sql_flush(
            self, style, others, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not kept:
            return statements
        truncates = [f"TRUNCATE {self.quote_name(table)};" for table in kept]
        if not statements:
            return ["SET FOREIGN_KEY_CHECKS = 0;", *truncates, "SET FOREIGN_KEY_CHECKS = 1;"]
        return [statements[0], *truncates, *statements[1:]]  # inside FOREIGN_KEY_CHECKS = 0

    return flush


if connection.vendor == "mysql":
    from django.db.backends.mysql.operations import DatabaseOperations as MySQLOperations

    MySQLOperations.sql_flush = _truncating_kept_tables(MySQLOperations.sql_flush)  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and cached values never leak from one test into the next, nor does a
    cache outage a test caused (docs/adr/0038)."""
    breaker.reset()
    readcache.forget_lost_changes()
    cache.clear()
    yield
    breaker.reset()
    readcache.forget_lost_changes()
    cache.clear()


@pytest.fixture(autouse=True)
def _read_cache_changes_at_once(request, monkeypatch):
    """Most tests run inside one transaction that never commits, so what is deferred to the
    commit never runs: there, a write changes the read cache's versions at once (what the
    same connection reads next already sees the write). Tests with real transactions keep
    the deferral (docs/adr/0043)."""
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames:
        return
    monkeypatch.setattr(readcache, "_when_committed", lambda callback, using: callback())


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def administrator(db):
    """A member of the administrator role (not a superuser: the role alone must suffice)."""
    user = UserFactory(email="root@parquemarino.test", is_staff=True)
    user.groups.add(Group.objects.get(name=Role.ADMINISTRATOR))
    return user


@pytest.fixture
def admin_client(administrator) -> APIClient:
    return client_for(administrator)


@pytest.fixture
def back_office(client, administrator):
    """A client signed in to the back office as a superuser."""
    administrator.is_superuser = True
    administrator.save()
    client.force_login(administrator)
    return client
