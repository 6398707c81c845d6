"""A uniqueness check lost to a concurrent write answers 409, not 500."""

import pytest

from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.urls("tests.api.urls")
def test_a_lost_uniqueness_race_is_409_not_500(monkeypatch, administrator):
    """The check passes (another request has not committed yet), the database says no."""
    from django.contrib.auth.models import Group
    from django.db.models import QuerySet

    Group.objects.create(name="Aquarists")
    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    response = client_for(administrator).post(
        "/api/v1/groups/", {"name": "Aquarists"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    assert Group.objects.filter(name="Aquarists").count() == 1
