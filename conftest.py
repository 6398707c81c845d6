import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.support.security.models import User
from apps.support.security.roles import Role
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and cached values never leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


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


def staff_member(role: str, **fields) -> User:
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=role))
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
    return client


def bearer(user) -> dict[str, str]:
    """``Authorization`` header with a fresh access token for ``user``."""
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


@pytest.fixture
def admin_client(administrator) -> APIClient:
    return client_for(administrator)
