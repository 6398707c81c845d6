"""What a failed sign-in leaves in the audit trail: no typed secrets."""

import pytest

from apps.support.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_text_typed_as_email_is_not_kept_unless_it_is_an_account(api_client):
    api_client.post(
        "/api/v1/auth/token/", {"email": "My Secret Passw0rd!", "password": "x"}, format="json"
    )
    event = AuditEvent.objects.get(action="security.login.failed")
    assert event.metadata == {"email": None}
    assert "passw0rd" not in str(AuditEvent.objects.values_list("metadata", "changes")).lower()
