"""Rates by scope, counted in the shared cache; 429 in the error shape with Retry-After."""

import pytest

from apps.support.security.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rate(scope: str, rate: str) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                scope: rate,
            },
        }

    return set_rate


def test_login_scope(api_client, user, rates, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: 1_800_000_000.0)  # a still clock
    rates("login", "3/minute")
    body = {"email": user.email, "password": "a-long-enough-password"}
    statuses = [
        api_client.post("/api/v1/auth/token/", body, format="json").status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    response = api_client.post("/api/v1/auth/token/", body, format="json")
    assert response.json()["code"] == "throttled"
    assert response["Retry-After"] == "60"


def test_register_scope_and_nothing_is_created_when_throttled(api_client, rates):
    rates("register", "2/hour")
    for index in range(2):
        response = api_client.post(
            "/api/v1/auth/register/",
            {"email": f"v{index}@example.org", "password": "a-long-enough-password"},
            format="json",
        )
        assert response.status_code == 201
    refused = api_client.post(
        "/api/v1/auth/register/",
        {"email": "v9@example.org", "password": "a-long-enough-password"},
        format="json",
    )
    assert refused.status_code == 429
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "v0@example.org",
        "v1@example.org",
    ]


def test_password_reset_scope(api_client, rates):
    rates("password_reset", "1/hour")
    first = api_client.post(
        "/api/v1/auth/password/reset/", {"email": "a@example.org"}, format="json"
    )
    second = api_client.post(
        "/api/v1/auth/password/reset/", {"email": "b@example.org"}, format="json"
    )
    assert (first.status_code, second.status_code) == (202, 429)


def test_anonymous_scope_is_per_address(api_client, rates):
    rates("anon", "2/minute")
    codes = [api_client.get("/api/v1/", REMOTE_ADDR="203.0.113.5").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert api_client.get("/api/v1/", REMOTE_ADDR="203.0.113.6").status_code == 200


def test_anonymous_requests_are_counted_once(api_client, rates):
    """Only the anonymous scope counts them: a tighter user rate does not apply."""
    rates("anon", "3/minute")
    rates("user", "1/minute")
    codes = [api_client.get("/api/v1/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_user_scope_is_per_account(user, rates):
    from tests.helpers import client_for

    rates("user", "2/minute")
    client = client_for(user)
    assert [client.get("/api/v1/").status_code for _ in range(3)] == [200, 200, 429]
