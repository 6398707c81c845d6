"""A test URLconf: the real root URLconf plus one catalogue resource built on the shared bases.

The resource manages Django's auth groups through the small services below, exactly as a
module's resource would manage its own models; it exists only to test the shared machinery.
"""

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.urls import include, path
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from api.permissions import ModelPermissions, role_permission
from api.serializers import InputSerializer, ModelSerializer
from api.v1 import urls as v1_urls
from api.viewsets import CatalogViewSet
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from config import urls as root_urls


def custom_groups() -> QuerySet[Group]:
    """Groups other than the staff roles that migrations create."""
    return Group.objects.exclude(name__in=Role.values)


def group_list() -> QuerySet[Group]:
    return custom_groups().order_by("name")


def group_create(*, name: str, note: str = "") -> Group:
    with transaction.atomic():
        if Group.objects.filter(name=name).exists():
            raise ConflictError(
                "A group with this name exists.", code="group_exists", retry_after=5
            )
        return Group.objects.create(name=name)


def group_rename(*, group: Group, name: str) -> Group:
    group.name = name
    group.save(update_fields=["name"])
    return group


class GroupInput(InputSerializer):
    name = serializers.CharField(max_length=150)
    note = serializers.CharField(required=False, max_length=20)


class ItemSerializer(InputSerializer):
    quantity = serializers.IntegerField(min_value=1)


class BasketInput(InputSerializer):
    items = ItemSerializer(many=True)


class GroupOutput(ModelSerializer):
    class Meta:
        model = Group
        fields = ("id", "name")


class GroupViewSet(CatalogViewSet):
    selector = group_list
    serializer_class = GroupOutput
    input_serializer_class = GroupInput
    # Anyone reads, as on a public catalogue; writes need the model permission of the action.
    permission_classes = [role_permission(public_read=True) | ModelPermissions]
    search_fields = ("name",)
    ordering_fields = ("name", "id")

    def perform_create(self, serializer):
        return group_create(**serializer.validated_data)

    def perform_update(self, instance, serializer):
        return group_rename(group=instance, name=serializer.validated_data["name"])

    def perform_destroy(self, instance):
        instance.delete()

    @action(detail=False, methods=["post"], serializer_class=BasketInput)
    def basket(self, request: Request) -> Response:
        serializer = BasketInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"items": len(serializer.validated_data["items"])})

    @action(detail=False, methods=["get"])
    def crash(self, request: Request) -> Response:
        raise RuntimeError("boom")

    @action(detail=False, methods=["get"])
    def version(self, request: Request) -> Response:
        return Response({"version": request.version})


class StaffGroupViewSet(GroupViewSet):
    """The same resource for staff only: the base viewsets' default, reads included."""

    permission_classes = [ModelPermissions]


router = SimpleRouter()
router.register("groups", GroupViewSet, basename="group")
router.register("staff-groups", StaffGroupViewSet, basename="staff-group")

urlpatterns = [
    path("api/v1/", include(([*v1_urls.urlpatterns, *router.urls], "v1"), namespace="v1")),
    *(pattern for pattern in root_urls.urlpatterns if getattr(pattern, "namespace", None) != "v1"),
]

handler400 = root_urls.handler400
handler403 = root_urls.handler403
handler404 = root_urls.handler404
handler500 = root_urls.handler500
