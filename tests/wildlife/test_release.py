"""Releasing an animal to the wild."""

import pytest

from apps.support.security.roles import Role
from tests.factories import AnimalFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db


def test_release_with_a_long_place_and_notes(api_client):
    curator = staff_member(Role.CURATOR)
    animal = AnimalFactory(origin="rescued")
    response = client_for(curator).post(
        f"/api/v1/wildlife/animals/{animal.pk}/release/",
        {"released_on": "2026-11-24", "place": "P" * 255, "notes": "N" * 2000},
        format="json",
    )
    assert response.status_code == 200
    assert animal.locations.get(habitat=None).reason.endswith("N" * 2000)
