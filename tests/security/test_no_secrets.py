"""Done-when of the security issue: nothing secret in any audit entry or log line."""

import logging
import re

import pytest
from django.core import mail

from apps.support.audit.models import AuditEvent
from tests.factories import UserFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

PASSWORD = "first-Secret-pass-1"
NEW_PASSWORD = "second-Secret-pass-2"
RESET_PASSWORD = "third-Secret-pass-3"


def test_whole_account_life_leaves_no_secret_behind(
    api_client, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = [PASSWORD, NEW_PASSWORD, RESET_PASSWORD]
    api_client.post(
        "/api/v1/auth/register/", {"email": "sam@example.org", "password": PASSWORD}, format="json"
    )
    api_client.post(
        "/api/v1/auth/token/",
        {"email": "sam@example.org", "password": "wrong-" + PASSWORD},
        format="json",
    )
    secrets.append("wrong-" + PASSWORD)
    tokens = api_client.post(
        "/api/v1/auth/token/", {"email": "sam@example.org", "password": PASSWORD}, format="json"
    ).json()
    secrets += [tokens["access"], tokens["refresh"]]
    rotated = api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    ).json()
    secrets += [rotated["access"], rotated["refresh"]]
    api_client.post(
        "/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json"
    )  # reuse
    user = UserFactory._meta.model.objects.get(email="sam@example.org")
    changed = (
        client_for(user)
        .post(
            "/api/v1/auth/password/change/",
            {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
            format="json",
        )
        .json()
    )
    secrets += [changed["access"], changed["refresh"]]
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/password/reset/", {"email": "sam@example.org"}, format="json")
    uid, token = re.search(r"uid=([\w-]+)&token=([\w-]+)", mail.outbox[-1].body).groups()
    secrets.append(token)
    api_client.post(
        "/api/v1/auth/password/reset/confirm/",
        {"uid": uid, "token": token, "new_password": RESET_PASSWORD},
        format="json",
    )
    user.refresh_from_db()
    secrets.append(user.password)  # the hash, too

    entries = " ".join(
        str(row)
        for row in AuditEvent.objects.values_list("changes", "metadata", "user_agent", "target_id")
    )
    assert list(
        AuditEvent.objects.filter(action__startswith="security.")
        .order_by("sequence")
        .values_list("action", flat=True)
    ) == [
        "security.user.created",
        "security.login.failed",
        "security.login.succeeded",
        "security.refresh_token.reused",
        "security.user.updated",
        "security.password.changed",
        "security.password.reset_requested",
        "security.user.updated",
        "security.password.reset",
    ]
    for secret in secrets:
        assert secret not in entries
        leaking = [
            r.name + ": " + r.getMessage()
            for r in caplog.records
            if secret in r.getMessage() + str(r.__dict__)
        ]
        assert leaking == [], secret
