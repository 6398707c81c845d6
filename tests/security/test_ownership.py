"""What belongs to someone is theirs and their entitled staff's; others get 404."""

import pytest
from django.http import Http404
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated

from api.ownership import OwnedObjectsMixin, get_visible_or_404, visible_to
from api.v1.security.serializers import UserSerializer
from api.viewsets import CatalogReadViewSet
from apps.support.security import selectors
from apps.support.security.models import User
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


class ProfileViewSet(OwnedObjectsMixin, CatalogReadViewSet):
    """Profiles as an owned resource: the owner of a profile is its user (``id``)."""

    permission_classes = [IsAuthenticated]
    selector = selectors.user_list
    serializer_class = UserSerializer
    owner_field = "id"
    owner_staff_roles = (Role.TICKET_OFFICE,)


from rest_framework.routers import SimpleRouter  # noqa: E402

router = SimpleRouter()
router.register("profiles", ProfileViewSet, basename="profile")
urlpatterns = [path("api/v1/", include((router.urls, "v1"), namespace="v1"))]


def test_owner_sees_only_their_own(user):
    UserFactory()
    response = client_for(user).get("/api/v1/profiles/")
    assert [item["id"] for item in response.json()["results"]] == [user.pk]


def test_another_users_id_is_404_not_403(user):
    other = UserFactory()
    response = client_for(user).get(f"/api/v1/profiles/{other.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    missing = client_for(user).get("/api/v1/profiles/999999/")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_entitled_staff_see_everyone(user):
    clerk = staff_member(Role.TICKET_OFFICE)
    response = client_for(clerk).get(f"/api/v1/profiles/{user.pk}/")
    assert response.status_code == 200


def test_other_staff_roles_are_not_entitled(user):
    curator = staff_member(Role.CURATOR)
    assert client_for(curator).get(f"/api/v1/profiles/{user.pk}/").status_code == 404


def test_administrators_see_everything(administrator, user):
    assert client_for(administrator).get(f"/api/v1/profiles/{user.pk}/").status_code == 200


def test_helpers_directly(user):
    other = UserFactory()
    everyone = User.objects.all()
    assert list(visible_to(everyone, user, owner_field="id")) == [user]
    from django.contrib.auth.models import AnonymousUser

    assert list(visible_to(everyone, AnonymousUser(), owner_field="id")) == []
    with pytest.raises(Http404):
        get_visible_or_404(everyone, user, owner_field="id", pk=other.pk)
    assert get_visible_or_404(everyone, user, owner_field="id", pk=user.pk) == user
