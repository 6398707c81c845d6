"""Versioning, pagination, filters and permissions of the shared base viewset."""

import pytest
from django.contrib.auth.models import Group, Permission

from tests.api.urls import custom_groups
from tests.helpers import bearer

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]

GROUPS = "/api/v1/groups/"
STAFF_GROUPS = "/api/v1/staff-groups/"


def make_groups(count: int) -> None:
    Group.objects.bulk_create(Group(name=f"group-{index:03d}") for index in range(count))


def test_version_is_visible_to_views(api_client):
    assert api_client.get(GROUPS + "version/").json() == {"version": "v1"}


def test_api_root_names_version_and_docs(api_client):
    response = api_client.get("/api/v1/")
    assert response.status_code == 200
    assert response.json() == {
        "version": "v1",
        "schema": "http://testserver/api/v1/schema/",
        "docs": "http://testserver/api/v1/docs/",
        "redoc": "http://testserver/api/v1/redoc/",
    }


def test_list_is_paginated_with_the_standard_envelope(api_client):
    make_groups(30)
    body = api_client.get(GROUPS).json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == 30
    assert len(body["results"]) == 25
    assert body["next"] == "http://testserver/api/v1/groups/?page=2"
    assert body["previous"] is None
    second = api_client.get(body["next"]).json()
    assert [group["name"] for group in second["results"]] == [
        f"group-{index:03d}" for index in range(25, 30)
    ]
    assert second["previous"] == "http://testserver/api/v1/groups/"


def test_page_size_is_capped_at_100(api_client):
    make_groups(105)
    assert len(api_client.get(GROUPS, {"page_size": 10}).json()["results"]) == 10
    assert len(api_client.get(GROUPS, {"page_size": 500}).json()["results"]) == 100


def test_page_past_the_end_is_404_in_the_error_shape(api_client):
    make_groups(3)
    response = api_client.get(GROUPS, {"page": 9})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_search_and_ordering_come_from_the_base(api_client):
    Group.objects.bulk_create(
        [Group(name="Aquarists"), Group(name="Vets"), Group(name="Aqua crew")]
    )
    names = [
        g["name"]
        for g in api_client.get(GROUPS, {"search": "aqua", "ordering": "-name"}).json()["results"]
    ]
    assert names == ["Aquarists", "Aqua crew"]


def test_public_read_lets_anonymous_list(api_client):
    make_groups(2)
    assert api_client.get(GROUPS).json()["count"] == 2


def test_model_permissions_guard_reads_too(api_client, user):
    """The base viewsets' default: reading needs the model's view permission."""
    make_groups(2)
    anonymous = api_client.get(STAFF_GROUPS)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    api_client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
    refused = api_client.get(STAFF_GROUPS)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    user.user_permissions.add(Permission.objects.get(codename="view_group"))
    assert api_client.get(STAFF_GROUPS).json()["count"] == 2


def test_model_permission_write_goes_through_the_service(api_client, user):
    user.user_permissions.add(Permission.objects.get(codename="add_group"))
    api_client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
    response = api_client.post(GROUPS, {"name": "Educators"}, format="json")
    assert response.status_code == 201
    group = custom_groups().get()
    assert response.json() == {"id": group.pk, "name": "Educators"}


def test_update_needs_change_permission_and_denied_changes_nothing(api_client, user):
    group = Group.objects.create(name="Educators")
    user.user_permissions.add(Permission.objects.get(codename="add_group"))
    api_client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
    response = api_client.patch(f"{GROUPS}{group.pk}/", {"name": "Teachers"}, format="json")
    assert response.status_code == 403
    group.refresh_from_db()
    assert group.name == "Educators"
    user.user_permissions.add(Permission.objects.get(codename="change_group"))
    response = api_client.patch(f"{GROUPS}{group.pk}/", {"name": "Teachers"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"id": group.pk, "name": "Teachers"}


def test_delete_returns_204(admin_client):
    group = Group.objects.create(name="Educators")
    assert admin_client.delete(f"{GROUPS}{group.pk}/").status_code == 204
    assert not custom_groups().exists()
