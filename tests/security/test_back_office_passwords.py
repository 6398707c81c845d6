"""Passwords set in the back office: only superusers touch a superuser, and every session of the
account ends."""

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


# --- A lone surrogate in a JSON key or value: 500 on every JSON endpoint ---------------


def test_an_administrator_cannot_set_a_superuser_s_password(client, administrator):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(administrator)
    url = f"/admin/security/user/{superuser.pk}/password/"
    response = client.post(
        url,
        {
            "password1": "Taken-over-123456",
            "password2": "Taken-over-123456",
            "usable_password": "true",
        },
    )
    superuser.refresh_from_db()
    assert not superuser.check_password("Taken-over-123456")
    assert response.status_code == 403


def test_a_password_set_in_the_back_office_revokes_the_user_s_refresh_tokens(client, administrator):
    member = UserFactory()
    refresh = str(RefreshToken.for_user(member))
    client.force_login(administrator)
    changed = client.post(
        f"/admin/security/user/{member.pk}/password/",
        {
            "password1": "New-password-123456",
            "password2": "New-password-123456",
            "usable_password": "true",
        },
    )
    assert changed.status_code == 302
    response = Client().post(
        "/api/v1/auth/token/refresh/", {"refresh": refresh}, content_type="application/json"
    )
    assert response.status_code == 401
