from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory


@pytest.fixture
def slot():
    return TimeSlotFactory(capacity=60)


@pytest.fixture
def adult():
    return TicketTypeFactory(code="adult", price=Decimal("2900.00"))


@pytest.fixture
def child():
    return TicketTypeFactory(
        code="child", name_es="Niño (4 a 11 años)", name_en="Child", price=Decimal("1450.00")
    )


@pytest.fixture
def visitor():
    return UserFactory(email="ada@example.org", first_name="Ada", last_name="Lovelace")


@pytest.fixture
def year() -> int:
    return timezone.localdate().year
