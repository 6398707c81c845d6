"""A webhook signature that is not even ASCII is refused, not a 500."""

import json
import time

import pytest

from apps.integrations.payments.sandbox import SIGNATURE_HEADER
from tests.payments.conftest import post_webhook

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def test_a_webhook_with_a_non_ascii_signature_is_refused_not_a_500(api_client):
    body = json.dumps({"id": "evt_1", "type": "payment.succeeded", "payment": "x"})
    response = post_webhook(
        api_client, {"body": body, "headers": {SIGNATURE_HEADER: f"t={int(time.time())},v1=éé"}}
    )
    assert (response.status_code, response.json()["code"]) == (400, "webhook_rejected")
