"""A signed webhook that is not UTF-8 is refused, not stored (json.loads would guess UTF-16 from
the bytes)."""

import json
import time

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from apps.business.payments.models import WebhookEvent
from apps.integrations.payments.sandbox import SIGNATURE_HEADER, sign
from tests.payments.conftest import post_webhook

pytestmark = pytest.mark.django_db


def error_code(response) -> tuple[int, str]:
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()["code"]


# --- A lone surrogate in a JSON key or value: 500 on every JSON endpoint ---------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="NUL bytes in text: PostgreSQL")
def test_a_signed_utf16_webhook_is_refused_not_a_500():
    body = json.dumps({"id": "evt_utf16", "type": "payment.succeeded", "payment": "x"})
    raw = body.encode("utf-16")
    secret = django_settings.PAYMENTS_SANDBOX_WEBHOOK_SECRET
    delivery = {"body": raw, "headers": {SIGNATURE_HEADER: sign(secret, raw, int(time.time()))}}
    response = post_webhook(Client(raise_request_exception=False), delivery)
    assert error_code(response) == (400, "webhook_rejected")
    assert WebhookEvent.objects.count() == 0
