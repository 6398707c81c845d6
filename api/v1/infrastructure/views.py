"""/api/v1/infrastructure/: sections, habitats, water quality."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from api.conditional import CachedReadMixin
from api.filters import boolean_query_parameter
from api.permissions import role_permission, signed_in_user
from api.viewsets import BaseViewSet, CatalogViewSet, ServiceCreateMixin
from apps.business.infrastructure import selectors, services
from apps.business.infrastructure.models import WaterParameter
from apps.support.common import readcache
from apps.support.security.roles import COLLECTION_STAFF, Role, has_any_role

from .filters import HabitatFilter, WaterAlertFilter, WaterReadingFilter, WaterTargetRangeFilter
from .serializers import (
    HabitatSerializer,
    SectionSerializer,
    WaterAlertSerializer,
    WaterRangeInput,
    WaterReadingInput,
    WaterReadingSerializer,
    WaterSeriesQuery,
    WaterSeriesSerializer,
    WaterTargetRangeSerializer,
)

# Staff who work with the living collection see everything, private places included.


def sees_private(request: Request) -> bool:
    return has_any_role(request.user, COLLECTION_STAFF)


class SectionViewSet(CachedReadMixin, CatalogViewSet):
    """The park's areas. Everyone reads the public ones; administrators write."""

    cache_namespaces = (readcache.CATALOGUE,)

    permission_classes = [role_permission(public_read=True)]
    every_row_roles = COLLECTION_STAFF
    serializer_class = SectionSerializer
    filterset_fields = ("is_public",)
    search_fields = ("name_es", "name_en")
    ordering_fields = ("display_order", "name_es")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.section_list(public_only=not self.sees_every_row())

    def perform_create(self, serializer: Any) -> Any:
        return services.section_create(data=serializer.validated_data)

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        return services.section_update(section=instance, data=serializer.validated_data)


class HabitatViewSet(CachedReadMixin, CatalogViewSet):
    """Tanks, pools, lagoons, enclosures, quarantine and rehabilitation units."""

    cache_namespaces = (readcache.CATALOGUE,)

    permission_classes = [role_permission(public_read=True)]
    every_row_roles = COLLECTION_STAFF
    serializer_class = HabitatSerializer
    filterset_class = HabitatFilter
    search_fields = ("name", "section__name_es")
    ordering_fields = ("name", "capacity", "volume_litres")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.habitat_list(public_only=not self.sees_every_row())

    def get_permissions(self) -> list[Any]:
        if self.action == "water_series":
            return [role_permission(read=(*COLLECTION_STAFF,))()]
        return list(super().get_permissions())

    def perform_create(self, serializer: Any) -> Any:
        habitat = services.habitat_create(data=serializer.validated_data)
        return self.get_queryset().get(pk=habitat.pk)

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        services.habitat_update(habitat=instance, data=serializer.validated_data)
        return self.get_queryset().get(pk=instance.pk)

    @extend_schema(
        operation_id="infrastructure_habitats_water_series",
        parameters=[
            OpenApiParameter("parameter", enum=WaterParameter.values, required=True),
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="From (inclusive)."),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="To (exclusive)."),
        ],
        responses={200: WaterSeriesSerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="water-series",
        filter_backends=[],
        pagination_class=None,
    )
    def water_series(self, request: Request, pk: str | None = None) -> Response:
        """One parameter over time, ready for a chart, with the target range."""
        habitat = self.get_object()
        query = WaterSeriesQuery(
            data={
                key: request.query_params[key]
                for key in ("parameter", "from", "to")
                if request.query_params.get(key)  # sent empty: as if not sent
            }
        )
        query.is_valid(raise_exception=True)
        series = selectors.water_series(
            habitat=habitat,
            parameter=query.validated_data["parameter"],
            start=query.validated_data.get("from"),
            end=query.validated_data.get("to"),
        )
        return Response(WaterSeriesSerializer(series).data)


class WaterRangeViewSet(ServiceCreateMixin, mixins.ListModelMixin, BaseViewSet):
    """Target ranges per habitat and parameter. POST sets (or replaces) one."""

    permission_classes = [
        role_permission(read=(Role.CURATOR, Role.VETERINARIAN), write=(Role.AQUARIST,))
    ]
    serializer_class = WaterTargetRangeSerializer
    input_serializer_class = WaterRangeInput
    filterset_class = WaterTargetRangeFilter
    ordering_fields = ("habitat", "parameter")

    selector = selectors.water_range_list

    def perform_create(self, serializer: Any) -> Any:
        return services.water_range_set(**serializer.validated_data)


class WaterReadingViewSet(
    ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet
):
    """Water readings. Aquarists record them; values outside the habitat's range are flagged
    and open an alert."""

    permission_classes = [
        role_permission(read=(Role.CURATOR, Role.VETERINARIAN), write=(Role.AQUARIST,))
    ]
    serializer_class = WaterReadingSerializer
    input_serializer_class = WaterReadingInput
    filterset_class = WaterReadingFilter
    ordering_fields = ("taken_at",)
    selector = selectors.water_reading_list

    def perform_create(self, serializer: Any) -> Any:
        data = dict(serializer.validated_data)
        values = {name: data.pop(name, None) for name in WaterParameter.values}
        return services.water_reading_record(
            actor=signed_in_user(self.request), values=values, **data
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[OpenApiParameter("include_closed", bool, description="Also closed alerts.")]
    )
)
class WaterAlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Out-of-range conditions: open until a reading of that parameter is back in range."""

    permission_classes = [role_permission(read=COLLECTION_STAFF)]
    serializer_class = WaterAlertSerializer
    filterset_class = WaterAlertFilter
    ordering_fields = ("opened_at",)

    def get_queryset(self) -> QuerySet[Any]:
        include_closed = boolean_query_parameter(self.request, "include_closed")
        return selectors.water_alert_list(open_only=not include_closed and self.action == "list")
