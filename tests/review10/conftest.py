"""Fixtures of the review-10 tests: Stripe and PayPal faked at their HTTP transports."""

import pytest

from apps.support.security.roles import Role
from tests.helpers import client_for, staff_member
from tests.integrations.paypal_fake import fake_paypal_fixture  # noqa: F401
from tests.integrations.stripe_fake import fake_stripe  # noqa: F401


@pytest.fixture
def finance():
    return client_for(staff_member(Role.FINANCE))
