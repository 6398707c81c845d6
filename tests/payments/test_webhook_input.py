"""Signed sandbox deliveries with odd bodies: refused as 400 ``webhook_rejected`` and not
stored, never a 500; ids are taken whole, never cut, so two events never count as one."""

import json
import time

import pytest
from django.conf import settings

from apps.business.payments.models import WebhookEvent
from apps.integrations.payments.sandbox import SIGNATURE_HEADER, sign
from tests.payments.conftest import post_webhook

pytestmark = pytest.mark.django_db


def signed(payload) -> dict:
    body = json.dumps(payload)
    secret = settings.PAYMENTS_SANDBOX_WEBHOOK_SECRET
    return {
        "body": body,
        "headers": {SIGNATURE_HEADER: sign(secret, body.encode(), int(time.time()))},
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "evt\x00nul", "type": "payment.succeeded", "payment": "sbx_1"},
        {"id": 12345, "type": "payment.succeeded", "payment": "sbx_1"},
        {"id": ["evt"], "type": "payment.succeeded", "payment": "sbx_1"},
        {"id": "evt_1", "type": ["payment.succeeded"], "payment": "sbx_1"},
        {"id": "evt_1", "type": {"a": 1}, "payment": "sbx_1"},
        {"id": "evt_1", "type": "payment.succeeded", "payment": None},
        {"id": "evt_1", "type": "payment.succeeded", "payment": "sbx\x00"},
        {"id": "", "type": "payment.succeeded", "payment": "sbx_1"},
        {"id": "e" * 121, "type": "payment.succeeded", "payment": "sbx_1"},
        {"id": "evt_1", "type": "t" * 81, "payment": "sbx_1"},
        {"id": "evt_1", "type": "payment.succeeded", "payment": "p" * 121},
        ["not", "an", "object"],
        "a string",
    ],
)
def test_a_signed_body_with_bad_ids_is_refused_and_not_stored(api_client, payload):
    response = post_webhook(api_client, signed(payload))
    assert (response.status_code, response.json()["code"]) == (400, "webhook_rejected")
    assert WebhookEvent.objects.count() == 0


def test_two_long_ids_sharing_their_first_120_characters_are_two_events(api_client):
    first, second = "e" * 119 + "1", "e" * 119 + "2"
    for event_id in (first, second):
        payload = {"id": event_id, "type": "payment.refunded", "payment": "sbx_1"}
        assert post_webhook(api_client, signed(payload)).status_code == 200
    assert sorted(WebhookEvent.objects.values_list("event_id", flat=True)) == [first, second]
