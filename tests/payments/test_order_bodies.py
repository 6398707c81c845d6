"""Order bodies: JSON only; an abandoned Idempotency-Key is claimed again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.business.payments.models import Order
from apps.support.common.models import IdempotencyKey
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def test_orders_take_json_only(user, slot, adult):
    response = client_for(user).post(
        ORDERS, {"lines": "x"}, format="multipart", headers={"Idempotency-Key": "m-1"}
    )
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert (Order.objects.count(), IdempotencyKey.objects.count()) == (0, 0)


def test_an_abandoned_idempotency_key_is_claimed_again(user, slot, adult):
    from apps.support.common.idempotency import fingerprint

    body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]}
    IdempotencyKey.objects.create(
        user=user,
        key="dead-1",
        fingerprint=fingerprint(method="POST", path=ORDERS, body=body),
        created_at=timezone.now() - timedelta(minutes=6),
    )
    response = client_for(user).post(
        ORDERS, body, format="json", headers={"Idempotency-Key": "dead-1"}
    )
    assert response.status_code == 201
    assert IdempotencyKey.objects.get(key="dead-1").status_code == 201
