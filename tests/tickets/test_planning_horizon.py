"""Slots are only generated on days that can be closed: today up to ten years ahead."""

import contextlib

import pytest
from django.utils import timezone

from apps.business.tickets import services as tickets
from apps.business.tickets.models import OpeningSchedule, TimeSlot
from apps.business.tickets.services import planning_horizon
from apps.support.common.errors import ServiceError

pytestmark = pytest.mark.django_db


# --- A lone surrogate in a JSON key or value: 500 on every JSON endpoint ---------------


def test_slots_are_never_generated_on_days_that_cannot_be_closed(administrator):
    """`closures/` refuses a day past the ten-year horizon (date_too_far); slots
    generated from the last plannable day run 365 days past it, on sale and unclosable."""

    today = timezone.localdate()
    OpeningSchedule.objects.create(
        name="all week",
        valid_from=today,
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        opens_at="09:00",
        closes_at="10:00",
        slot_minutes=60,
        capacity_per_slot=10,
    )
    last = planning_horizon(today)
    # Refusing the range is one fix, generating only up to the horizon another.
    with contextlib.suppress(ServiceError):
        tickets.slots_generate(start=last, days=30, actor=administrator)
    beyond = TimeSlot.objects.filter(date__gt=last)
    assert list(beyond.values_list("date", flat=True)) == []
