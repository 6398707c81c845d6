"""The shared base of every module's resources (after NetBox's uniform REST resources).

A catalogue resource declares its selector, serializers, filters and permissions; writes go
through the module's services by overriding ``perform_create``/``perform_update``/
``perform_destroy`` — never through ``serializer.save()``. Workflows (buy, pay, move, check
in) are explicit ``@action`` POSTs that call one service.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from apps.support.common.request_context import user_id_var
from apps.support.security.roles import has_any_role

from .permissions import ModelPermissions

_WRITE_ACTIONS = {"create", "update", "partial_update"}


class BaseViewSet(viewsets.GenericViewSet):
    """Filters, search, ordering and pagination come from settings; permissions default to
    the model permissions of the caller's roles.

    - ``selector``: a module selector returning the queryset with its related objects loaded.
    - ``serializer_class``: the output representation.
    - ``input_serializer_class``: what create and update accept, when it differs.
    - ``every_row_roles``: when the list hides rows from some callers (what is not public,
      not on sale, in folders of other roles), the roles that list every row (administrators
      always do); ``None``: whoever may list sees every row. Resources of visitors (orders,
      tickets) say it with ``owner_staff_roles`` instead. The back office shows a model to the
      roles that list every row of it here (``api.back_office``).
    """

    permission_classes = [ModelPermissions]
    every_row_roles: tuple[str, ...] | None = None
    selector: Callable[[], QuerySet[Any]] | None = None
    input_serializer_class: type[BaseSerializer] | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.user and request.user.is_authenticated:
            user_id_var.set(str(request.user.pk))

    def sees_every_row(self) -> bool:
        """Whether the caller lists every row (``every_row_roles``)."""
        roles = self.every_row_roles
        return roles is None or has_any_role(self.request.user, roles)

    def get_queryset(self) -> QuerySet[Any]:
        selector = type(self).selector
        if selector is not None:
            return selector()
        return super().get_queryset()

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action in _WRITE_ACTIONS and self.input_serializer_class is not None:
            return self.input_serializer_class
        return super().get_serializer_class()

    def get_output_serializer(self, instance: Model) -> BaseSerializer:
        return self.serializer_class(instance, context=self.get_serializer_context())  # type: ignore[misc]


class ServiceCreateMixin:
    """``POST`` on the list: validate, call the module's create service, return the output."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)  # type: ignore[attr-defined]
        serializer.is_valid(raise_exception=True)
        instance = self.perform_create(serializer)
        output = self.get_output_serializer(instance)  # type: ignore[attr-defined]
        return Response(output.data, status=status.HTTP_201_CREATED)

    def perform_create(self, serializer: BaseSerializer) -> Model:
        raise NotImplementedError("Call the module's create service here.")


class ServiceUpdateMixin:
    """``PUT``/``PATCH`` on an item, through the module's update service."""

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        serializer = self.get_serializer(  # type: ignore[attr-defined]
            instance, data=request.data, partial=kwargs.pop("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        instance = self.perform_update(instance, serializer)
        return Response(self.get_output_serializer(instance).data)  # type: ignore[attr-defined]

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def perform_update(self, instance: Model, serializer: BaseSerializer) -> Model:
        raise NotImplementedError("Call the module's update service here.")


class ServiceDestroyMixin:
    """``DELETE`` on an item, through the module's delete service."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.perform_destroy(self.get_object())  # type: ignore[attr-defined]
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, instance: Model) -> None:
        raise NotImplementedError("Call the module's delete service here.")


class CatalogReadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """A read-only catalogue resource."""


class CatalogViewSet(
    ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin, CatalogReadViewSet
):
    """A catalogue resource with list, retrieve, create, update and delete."""
