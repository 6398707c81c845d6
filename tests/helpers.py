"""Helpers shared by the tests: staff users in a role, API clients and bearer headers."""

from django.contrib.auth.models import Group
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.support.security.models import User
from tests.factories import UserFactory


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
