"""What the tests of the ticket office's and the gate's back-office pages share."""

import datetime
from decimal import Decimal

from django.utils import timezone

from apps.business.tickets.models import TicketType, TimeSlot
from tests.factories import TicketTypeFactory
from tests.helpers import staff_member


def slot_at(starts_at=None, *, date=None, capacity=10) -> TimeSlot:
    """A two-hour slot from ``starts_at`` (default: this hour of today), of ``date`` (default:
    its own local date)."""
    starts_at = starts_at or timezone.localtime().replace(minute=0, second=0, microsecond=0)
    return TimeSlot.objects.create(
        date=date or timezone.localtime(starts_at).date(),
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=2),
        capacity=capacity,
    )


def adult_type() -> TicketType:
    return TicketTypeFactory(code="adult", name_en="Adult", price=Decimal("2900.00"))


def signed_in(client, role):
    """A member of staff of ``role`` who reads the back office in English (the profile's
    language decides it), signed in with ``client``."""
    user = staff_member(role, preferred_language="en")
    client.force_login(user)
    return user
