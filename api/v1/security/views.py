"""/api/v1/security/: accounts and their roles, for administrators only."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view

from api.permissions import IsAdministrator, signed_in_user
from api.viewsets import CatalogReadViewSet, ServiceCreateMixin, ServiceUpdateMixin
from apps.support.security import selectors, services

from .filters import UserFilter
from .serializers import RoleSerializer, UserCreateSerializer, UserSerializer, UserUpdateSerializer


@extend_schema_view(
    create=extend_schema(request=UserCreateSerializer, responses={201: UserSerializer}),
    partial_update=extend_schema(request=UserUpdateSerializer, responses={200: UserSerializer}),
)
class UserViewSet(ServiceCreateMixin, ServiceUpdateMixin, CatalogReadViewSet):
    """Accounts. Only administrators list, open, edit and grant roles; nobody deletes an
    account (deactivate it: its history stays in the audit trail)."""

    permission_classes = [IsAdministrator]
    selector = selectors.user_list
    serializer_class = UserSerializer
    filterset_class = UserFilter
    search_fields = ("email", "first_name", "last_name", "phone")
    ordering_fields = ("email", "date_joined", "last_login")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return UserCreateSerializer
        if self.action == "partial_update":
            return UserUpdateSerializer
        return UserSerializer

    def perform_create(self, serializer: Any) -> Any:
        return services.user_create(actor=signed_in_user(self.request), **serializer.validated_data)

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        return services.user_update(
            actor=signed_in_user(self.request), user=instance, data=serializer.validated_data
        )


class RoleViewSet(CatalogReadViewSet):
    """The staff roles and the permissions each carries (defined by migrations)."""

    permission_classes = [IsAdministrator]
    selector = selectors.role_list
    serializer_class = RoleSerializer
    search_fields = ("name",)
    ordering_fields = ("name",)
