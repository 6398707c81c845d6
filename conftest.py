import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

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
    return UserFactory(email="root@parquemarino.test", is_staff=True, is_superuser=True)


def bearer(user) -> dict[str, str]:
    """``Authorization`` header with a fresh access token for ``user``."""
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


@pytest.fixture
def admin_client(administrator) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(administrator)["Authorization"])
    return client
