"""The ticket list tells nobody whether someone else's order exists."""

import pytest

from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for
from tests.sales import paid_order

pytestmark = pytest.mark.django_db


def test_the_ticket_filter_does_not_tell_whether_someone_else_s_order_exists(user):
    others = paid_order(UserFactory(), TimeSlotFactory(), TicketTypeFactory(), 1)
    client = client_for(user)
    theirs = client.get("/api/v1/tickets/tickets/", {"order": others.pk})
    missing = client.get("/api/v1/tickets/tickets/", {"order": 987654})
    assert (theirs.status_code, theirs.json()["results"]) == (200, [])
    assert (missing.status_code, missing.json()["results"]) == (200, [])
