"""Idempotency-Key on money-moving POSTs: what is kept, what is replayed, what is refused."""

import json

import pytest
from django.db import DataError
from django.db.models import QuerySet

from apps.business.payments.models import Order
from apps.support.common.models import IdempotencyKey
from tests.helpers import client_for

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


def test_a_refused_request_echoing_a_nul_is_kept_and_replayed_exactly(user, slot, adult):
    """An unknown field whose name holds a NUL: its 400 names the field, NUL and all. The key
    used to stay "in use" for 5 minutes after a 500 (jsonb cannot store a NUL)."""
    client = client_for(user)
    body = json.dumps(
        {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}], "to\x00tal": 1}
    )
    first = client.post(
        ORDERS, body, content_type="application/json", headers={"Idempotency-Key": "nul-1"}
    )
    assert first.status_code == 400
    assert first.json()["errors"] == [
        {"field": "to\x00tal", "code": "unknown_field", "message": "Campo desconocido."}
    ]
    again = client.post(
        ORDERS, body, content_type="application/json", headers={"Idempotency-Key": "nul-1"}
    )
    assert (again.status_code, again.json()) == (400, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert IdempotencyKey.objects.get(key="nul-1").status_code == 400
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    "key", ["", " ", "a b", "tab\tkey", "nul\x00key", "llave-añadida", "k" * 256]
)
def test_a_key_that_is_not_visible_ascii_or_too_long_is_refused(user, slot, adult, key):
    body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]}
    response = client_for(user).post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_invalid")
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert (Order.objects.count(), IdempotencyKey.objects.count()) == (0, 0)


def test_the_longest_key_is_accepted(user, slot, adult):
    body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]}
    key = "~" + "K" * 253 + "!"
    response = client_for(user).post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201
    assert IdempotencyKey.objects.get().key == key


def test_an_answer_that_cannot_be_kept_releases_the_key(user, slot, adult, monkeypatch):
    update = QuerySet.update

    def cannot_store_the_answer(queryset, **fields):
        if "response_json" in fields:
            raise DataError("the database refused the answer")
        return update(queryset, **fields)

    monkeypatch.setattr(QuerySet, "update", cannot_store_the_answer)
    body = {"lines": [{"slot": slot.pk, "ticket_type": adult.pk, "quantity": 1}]}
    first = client_for(user).post(
        ORDERS, body, format="json", headers={"Idempotency-Key": "lost-1"}
    )
    assert first.status_code == 201
    assert IdempotencyKey.objects.filter(key="lost-1").count() == 0  # not left "in use"
    assert Order.objects.count() == 1
