"""Five failed sign-ins for one email from one address lock that pair out for 15 minutes."""

import pytest
from django.test import Client

from apps.support.audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password"


def login(client, email, password, ip="203.0.113.10", **extra):
    return client.post(
        "/api/v1/auth/token/",
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=ip,
        **extra,
    )


def fail_five_times(client, email, ip="203.0.113.10", **extra):
    for _ in range(5):
        response = login(client, email, "wrong-password", ip=ip, **extra)
        assert response.status_code in (401, 429)


def test_sixth_attempt_is_locked_out_even_with_the_right_password(api_client, user):
    for attempt in range(4):
        assert login(api_client, user.email, "wrong-password").status_code == 401, attempt
    fifth = login(api_client, user.email, "wrong-password")
    assert fifth.status_code == 429
    response = login(api_client, user.email, PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert (body["code"], body["errors"]) == ("locked_out", [])
    assert response["Retry-After"] == "900"
    assert body["request_id"] == response["X-Request-ID"]


def test_lockout_counts_the_email_case_insensitively(api_client, user):
    for email in (user.email, user.email.upper(), user.email.title(), user.email, user.email):
        login(api_client, email, "wrong-password")
    assert login(api_client, user.email, PASSWORD).status_code == 429


def test_lockout_is_audited(api_client, user):
    fail_five_times(api_client, user.email)
    actions = list(
        AuditEvent.objects.filter(action__startswith="security.login")
        .order_by("sequence")
        .values_list("action", "metadata")
    )
    failed = ("security.login.failed", {"email": user.email})
    locked = ("security.login.locked_out", {"email": user.email, "ip_address": "203.0.113.10"})
    # django-axes announces the lockout while it counts the fifth failure.
    assert actions == [failed] * 4 + [locked, failed]


def test_other_users_on_the_same_address_still_sign_in(api_client, user):
    fail_five_times(api_client, user.email)
    colleague = UserFactory()
    assert login(api_client, colleague.email, PASSWORD).status_code == 200


def test_the_same_email_from_another_address_still_signs_in(api_client, user):
    fail_five_times(api_client, user.email)
    assert login(api_client, user.email, PASSWORD, ip="198.51.100.7").status_code == 200


def test_forwarded_for_is_ignored_without_trusted_proxies(api_client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for index in range(5):
        login(api_client, user.email, "wrong-password", HTTP_X_FORWARDED_FOR=f"10.9.9.{index}")
    # A client cannot dodge the lockout by inventing addresses.
    response = login(api_client, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.99")
    assert response.status_code == 429


def test_forwarded_for_is_believed_behind_a_trusted_proxy(api_client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    fail_five_times(api_client, user.email, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    locked = login(api_client, user.email, PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert locked.status_code == 429
    # Another visitor behind the same proxy is a different client.
    other = login(api_client, user.email, PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.21")
    assert other.status_code == 200


def test_back_office_login_is_locked_out_too(user):
    client = Client(REMOTE_ADDR="203.0.113.10")
    for _ in range(5):
        client.post("/admin/login/", {"username": user.email, "password": "wrong-password"})
    response = client.post("/admin/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
