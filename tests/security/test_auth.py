"""Sign-up, sign-in, token rotation and reuse, sign-out, own profile, passwords."""

import re
from datetime import timedelta

import jwt
import pytest
from django.core import mail
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from apps.support.audit.models import AuditEvent
from apps.support.security.models import User
from tests.factories import UserFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password"
NEW_PASSWORD = "another-long-password-2"


def login(client, email, password=PASSWORD, **extra):
    return client.post(
        "/api/v1/auth/token/", {"email": email, "password": password}, format="json", **extra
    )


def refresh(client, token):
    return client.post("/api/v1/auth/token/refresh/", {"refresh": token}, format="json")


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))


# --- register -------------------------------------------------------------------------


def test_register_creates_a_visitor_without_roles(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {
            "email": "Nina@Example.org",
            "password": PASSWORD,
            "first_name": "Nina",
            "preferred_language": "en",
        },
        format="json",
    )
    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {
        "id": user.pk,
        "email": "nina@example.org",
        "first_name": "Nina",
        "last_name": "",
        "phone": "",
        "preferred_language": "en",
        "roles": [],
        "is_staff": False,
        "is_active": True,
        "date_joined": response.json()["date_joined"],
        "last_login": None,
    }
    assert user.check_password(PASSWORD)
    event = AuditEvent.objects.get(action="security.user.created")
    assert (event.actor_label, event.target_id) == ("anonymous", str(user.pk))
    assert event.changes["password"] == "***"


@pytest.mark.parametrize("field", ["is_staff", "is_superuser", "roles", "groups"])
def test_register_refuses_privileged_fields_and_creates_nothing(api_client, field):
    body = {"email": "nina@example.org", "password": PASSWORD, field: True}
    response = api_client.post("/api/v1/auth/register/", body, format="json")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        (field, "unknown_field")
    ]
    assert not User.objects.exists()


def test_register_applies_password_validators(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "nina@example.org", "password": "12345678"},
        format="json",
    )
    assert response.status_code == 400
    assert {(e["field"], e["code"]) for e in response.json()["errors"]} == {("password", "invalid")}
    assert not User.objects.exists()


def test_register_twice_with_one_email_in_other_case(api_client):
    UserFactory(email="nina@example.org")
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "NINA@example.org", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"
    assert User.objects.count() == 1


# --- token ----------------------------------------------------------------------------


def test_login_gives_short_lived_tokens_with_issuer_and_audience(api_client, user):
    response = login(api_client, user.email.upper())
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    access = AccessToken(response.json()["access"])
    assert access["iss"] == "parque-marino"
    assert access["aud"] == "parque-marino-api"
    assert timedelta(seconds=access["exp"] - access["iat"]) == timedelta(minutes=10)
    me = APIClient().get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.json()["email"] == user.email
    user.refresh_from_db()
    assert user.last_login is not None
    assert actions()[-1] == "security.login.succeeded"


def test_wrong_password_is_401_and_audited_without_the_password(api_client, user):
    response = login(api_client, user.email, "wrong-password-123")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    event = AuditEvent.objects.get(action="security.login.failed")
    assert event.metadata == {"email": user.email}
    assert "wrong-password-123" not in str(AuditEvent.objects.values_list())


@pytest.mark.parametrize(("claim", "value"), [("aud", "another-service"), ("iss", "someone-else")])
def test_token_from_another_issuer_or_audience_is_refused(settings, user, claim, value):
    payload = dict(AccessToken.for_user(user).payload)
    payload[claim] = value
    forged = jwt.encode(payload, settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")
    response = APIClient().get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


# --- refresh rotation and reuse -----------------------------------------------------------


def test_refresh_rotates_and_reuse_revokes_every_session(api_client, user):
    first = login(api_client, user.email).json()["refresh"]
    rotated = refresh(api_client, first)
    assert rotated.status_code == 200
    second = rotated.json()["refresh"]
    assert second != first

    reused = refresh(api_client, first)
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"
    event = AuditEvent.objects.get(action="security.refresh_token.reused")
    assert (event.target_id, event.metadata["revoked"]) == (str(user.pk), 1)
    # Every session is gone: the legitimate newer token no longer works either (and, being
    # merely revoked, not rotated, it is refused without a second reuse alarm).
    assert refresh(api_client, second).status_code == 401
    assert actions().count("security.refresh_token.reused") == 1


def test_a_revoked_token_is_refused_without_ending_other_sessions(api_client, user):
    old = login(api_client, user.email).json()["refresh"]
    client_for(user).post("/api/v1/auth/logout/", {"refresh": old}, format="json")
    current = login(api_client, user.email).json()["refresh"]
    assert refresh(api_client, old).status_code == 401
    assert refresh(api_client, current).status_code == 200
    assert "security.refresh_token.reused" not in actions()


def test_refresh_with_garbage_is_401(api_client):
    response = refresh(api_client, "not-a-token")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_access_token_is_not_a_refresh_token(api_client, user):
    access = login(api_client, user.email).json()["access"]
    assert refresh(api_client, access).status_code == 401


# --- logout -------------------------------------------------------------------------------


def test_logout_blacklists_the_refresh_token(api_client, user):
    tokens = login(api_client, user.email).json()
    client = client_for(user)
    response = client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    assert refresh(api_client, tokens["refresh"]).status_code == 401
    assert "security.user.logged_out" in actions()


def test_logout_with_someone_elses_token_changes_nothing(api_client, user):
    other = UserFactory()
    others_refresh = login(api_client, other.email).json()["refresh"]
    response = client_for(user).post(
        "/api/v1/auth/logout/", {"refresh": others_refresh}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "token_not_yours"
    assert refresh(api_client, others_refresh).status_code == 200


def test_logout_everywhere_ends_every_session(api_client, user):
    phone = login(api_client, user.email).json()["refresh"]
    laptop = login(api_client, user.email).json()["refresh"]
    client_for(user).post(
        "/api/v1/auth/logout/", {"refresh": laptop, "everywhere": True}, format="json"
    )
    assert refresh(api_client, phone).status_code == 401
    assert refresh(api_client, laptop).status_code == 401


# --- me ---------------------------------------------------------------------------------


def test_me_patch_changes_only_the_profile(user):
    client = client_for(user)
    response = client.patch(
        "/api/v1/auth/me/",
        {"first_name": "Grace", "preferred_language": "en", "phone": "+506 2222 0000"},
        format="json",
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.preferred_language, user.phone) == (
        "Grace",
        "en",
        "+506 2222 0000",
    )
    event = AuditEvent.objects.filter(action="security.user.updated").get()
    assert event.changes == {
        "first_name": ["Ada", "Grace"],
        "phone": ["", "+506 2222 0000"],
        "preferred_language": ["es", "en"],
    }
    assert event.actor_id == user.pk


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("is_staff", True),
        ("roles", ["administrator"]),
        ("email", "x@example.org"),
        ("is_superuser", True),
    ],
)
def test_me_patch_cannot_touch_privileges(user, field, value):
    response = client_for(user).patch("/api/v1/auth/me/", {field: value}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, user.email, user.groups.count()) == (
        False,
        False,
        user.email,
        0,
    )


def test_me_needs_authentication(api_client):
    response = api_client.get("/api/v1/auth/me/")
    assert response.status_code == 401


# --- password change ------------------------------------------------------------------------


def test_password_change_ends_other_sessions(api_client, user):
    other_session = login(api_client, user.email).json()["refresh"]
    response = client_for(user).post(
        "/api/v1/auth/password/change/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 200
    assert refresh(api_client, other_session).status_code == 401
    assert refresh(api_client, response.json()["refresh"]).status_code == 200
    assert login(api_client, user.email).status_code == 401
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200
    assert "security.password.changed" in actions()


def test_password_change_with_wrong_old_password_changes_nothing(user):
    response = client_for(user).post(
        "/api/v1/auth/password/change/",
        {"old_password": "not-it-at-all", "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "old_password", "code": "wrong_password", "message": response.json()["message"]}
    ]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- password reset --------------------------------------------------------------------------


def reset_link_parts() -> tuple[str, str]:
    match = re.search(r"\?uid=([\w-]+)&token=([\w-]+)", mail.outbox[-1].body)
    assert match
    return match.group(1), match.group(2)


def test_reset_answers_the_same_for_unknown_and_known_emails(
    api_client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        unknown = api_client.post(
            "/api/v1/auth/password/reset/", {"email": "nobody@example.org"}, format="json"
        )
        known = api_client.post(
            "/api/v1/auth/password/reset/", {"email": user.email}, format="json"
        )
    assert (unknown.status_code, known.status_code) == (202, 202)
    assert unknown.json() == known.json()
    assert [message.to for message in mail.outbox] == [[user.email]]


def test_reset_link_works_once(api_client, user, django_capture_on_commit_callbacks):
    session = login(api_client, user.email).json()["refresh"]
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/password/reset/", {"email": user.email}, format="json")
    uid, token = reset_link_parts()
    body = {"uid": uid, "token": token, "new_password": NEW_PASSWORD}
    first = api_client.post("/api/v1/auth/password/reset/confirm/", body, format="json")
    assert first.status_code == 204
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200
    assert refresh(api_client, session).status_code == 401

    again = api_client.post(
        "/api/v1/auth/password/reset/confirm/",
        {**body, "new_password": "third-password-333"},
        format="json",
    )
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_reset_link"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert actions().count("security.password.reset") == 1


def test_reset_confirm_with_a_forged_token_changes_nothing(api_client, user):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    body = {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": "abc-123",
        "new_password": NEW_PASSWORD,
    }
    response = api_client.post("/api/v1/auth/password/reset/confirm/", body, format="json")
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_register_race_on_one_email_is_400_not_500(api_client, monkeypatch):
    """Two sign-ups pass the existence check at once; the database's unique index decides."""
    from django.db.models import QuerySet

    UserFactory(email="nina@example.org")
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "nina@example.org", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"
    assert User.objects.count() == 1


@pytest.mark.parametrize("claim", ["1" * 1000, "²", "\uff11", str(2**63), "-1"])
def test_a_signed_refresh_token_whose_user_id_is_no_key_is_no_500(api_client, user, claim):
    """The user's row is locked by the claim's key only when it is one (int() refuses
    thousands of digits and takes Unicode digits): the token's own row decides the rest."""
    from rest_framework_simplejwt.tokens import RefreshToken

    token = RefreshToken.for_user(user)
    token["user_id"] = claim

    answer = refresh(api_client, str(token))

    assert answer.status_code == 200, answer.json()
