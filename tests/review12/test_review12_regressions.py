"""Review of issue 12: bugs found from outside, kept as regression tests."""

import pytest
from django.test import Client

from apps.business.donations.models import Campaign
from apps.support.security.roles import Role
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db

FORM = {
    "slug": "adm",
    "title_es": "T",
    "title_en": "",
    "story_es": "",
    "story_en": "",
    "goal": "1000.00",
    "currency": "CRC",
    "suggested_amounts": "[]",
    "starts_at_0": "2026-01-01",
    "starts_at_1": "00:00:00",
    "ends_at_0": "",
    "ends_at_1": "",
    "is_public": "on",
}


@pytest.mark.parametrize(
    "suggested", ['["abc"]', '"abc"', "[null]", "5000", '{"a": 1}', "[[1]]", "[true]"]
)
def test_the_back_office_refuses_suggested_amounts_that_are_not_amounts(suggested):
    """Was a 500 (InvalidOperation / TypeError from Decimal() in _checked_campaign_data): the
    admin's JSON field hands the service any JSON, the API's serializer never does."""
    client = Client(raise_request_exception=False)
    client.force_login(staff_member(Role.FINANCE))

    response = client.post(
        "/admin/donations/campaign/add/", FORM | {"suggested_amounts": suggested}
    )

    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors
    assert not Campaign.objects.exists()
