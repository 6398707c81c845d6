"""What the payments tests share: a small slot of today, the adult ticket, the webhook poster."""

from decimal import Decimal

import pytest

from tests.factories import TicketTypeFactory, TimeSlotFactory

WEBHOOK = "/api/v1/payments/webhooks/sandbox/"


@pytest.fixture
def slot():
    return TimeSlotFactory(capacity=4)


@pytest.fixture
def adult():
    return TicketTypeFactory(code="adult", price=Decimal("2900.00"))


def post_webhook(client, delivery):
    """POST a sandbox delivery (``{"body", "headers"}``) as the gateway would."""
    return client.generic(
        "POST",
        WEBHOOK,
        delivery["body"],
        content_type="application/json",
        headers=delivery["headers"],
    )
