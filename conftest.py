import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.support.common import readcache
from apps.support.common.cache import breaker
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for


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
