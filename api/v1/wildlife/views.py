"""/api/v1/wildlife/: species, animals and their records."""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.conditional import CachedReadMixin
from api.permissions import role_permission, signed_in_user
from api.v1.infrastructure.views import sees_private
from api.viewsets import CatalogReadViewSet, CatalogViewSet, ServiceCreateMixin, ServiceUpdateMixin
from apps.business.wildlife import selectors, services
from apps.support.common import readcache
from apps.support.security.roles import COLLECTION_STAFF, Role

from .filters import AnimalFilter, MedicalRecordFilter, PublicAnimalFilter, SpeciesFilter
from .serializers import (
    AnimalCreateInput,
    AnimalPublicSerializer,
    AnimalSerializer,
    AnimalUpdateInput,
    CensusSerializer,
    ConservationStatusSerializer,
    LocationSerializer,
    MedicalRecordSerializer,
    MoveInput,
    ReleaseInput,
    SpeciesImageInput,
    SpeciesImageSerializer,
    SpeciesSerializer,
    StatusInput,
    WeightInput,
    WeightSerializer,
    species_rows_representation,
)

CURATORS = role_permission(read=COLLECTION_STAFF, write=(Role.CURATOR,))


class ConservationStatusViewSet(CachedReadMixin, CatalogReadViewSet):
    """IUCN Red List categories."""

    cache_namespaces = (readcache.CATALOGUE,)

    permission_classes = [role_permission(public_read=True)]
    serializer_class = ConservationStatusSerializer
    lookup_field = "code"
    pagination_class = None
    filter_backends: list[Any] = []

    selector = selectors.conservation_status_list


class SpeciesViewSet(CachedReadMixin, ServiceCreateMixin, ServiceUpdateMixin, CatalogReadViewSet):
    """The species catalogue: public species for everyone; curators write. Species are never
    deleted (animals and their history refer to them): hide one with ``is_public``."""

    permission_classes = [role_permission(public_read=True, write=(Role.CURATOR,))]
    every_row_roles = COLLECTION_STAFF
    serializer_class = SpeciesSerializer
    filterset_class = SpeciesFilter
    search_key_field = "search_text"
    ordering_fields = ("common_name_es", "common_name_en", "scientific_name", "family")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    cache_namespaces = (readcache.CATALOGUE,)

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.species_list(public_only=not self.sees_every_row())

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The catalogue's fast read path: plain rows, two queries for the page."""
        species = self.filter_queryset(
            selectors.species_rows(public_only=not sees_private(request))
        )
        values = species.values_list(*selectors.SPECIES_ROW_FIELDS)
        page = self.paginate_queryset(values)
        rows = list(page if page is not None else values)
        images = selectors.species_image_rows(species_ids=[row[0] for row in rows])
        return self.get_paginated_response(species_rows_representation(rows, images, request))

    def perform_create(self, serializer: Any) -> Any:
        return services.species_create(data=serializer.validated_data)

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        services.species_update(species=instance, data=serializer.validated_data)
        return self.get_queryset().get(pk=instance.pk)

    @extend_schema(
        operation_id="wildlife_species_images_create",
        request={"multipart/form-data": SpeciesImageInput},
        responses={201: SpeciesImageSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser], url_path="images")
    def add_image(self, request: Request, pk: str | None = None) -> Response:
        species = self.get_object()
        data = SpeciesImageInput(data=request.data)
        data.is_valid(raise_exception=True)
        image = services.species_image_add(species=species, **data.validated_data)
        return Response(
            SpeciesImageSerializer(image, context={"request": request}).data, status=201
        )

    @extend_schema(operation_id="wildlife_species_images_destroy", responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"images/(?P<image_id>\d+)")
    def remove_image(
        self, request: Request, pk: str | None = None, image_id: str | None = None
    ) -> Response:
        species = self.get_object()
        services.species_image_remove(image=get_object_or_404(species.images, pk=image_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# Staff of the collection get the whole record; everyone else the public fields of public
# animals. The two shapes differ (``species`` is an id in one, an object in the other), so a
# validator tells them apart without a discriminator.
ANIMAL_FOR_CALLER = PolymorphicProxySerializer(
    component_name="AnimalForCaller",
    serializers=[AnimalSerializer, AnimalPublicSerializer],
    resource_type_field_name=None,
)


@extend_schema_view(
    list=extend_schema(
        responses=ANIMAL_FOR_CALLER,
        description=(
            "Staff of the collection (curators, veterinarians, aquarists) get `Animal`; "
            "everyone else `AnimalPublic`: public animals, public fields only."
        ),
    ),
    retrieve=extend_schema(
        responses=ANIMAL_FOR_CALLER,
        description="`Animal` for staff of the collection, `AnimalPublic` for everyone else.",
    ),
    create=extend_schema(request=AnimalCreateInput, responses={201: AnimalSerializer}),
    partial_update=extend_schema(request=AnimalUpdateInput, responses={200: AnimalSerializer}),
)
class AnimalViewSet(CatalogViewSet):
    """Individual animals. Visitors see public animals with public fields; staff of the
    collection see the whole record; curators register, edit, move and release."""

    permission_classes = [role_permission(public_read=True, write=(Role.CURATOR,))]
    every_row_roles = COLLECTION_STAFF
    search_fields = (
        "institutional_id",
        "house_name",
        "species__common_name_es",
        "species__scientific_name",
    )
    http_method_names = ["get", "post", "patch", "head", "options"]

    @property
    def filterset_class(self) -> type:
        """Visitors filter only on what they can see."""
        return AnimalFilter if sees_private(self.request) else PublicAnimalFilter

    @property
    def ordering_fields(self) -> tuple[str, ...]:
        if sees_private(self.request):
            return ("institutional_id", "house_name", "status_date")
        return ("institutional_id", "house_name")

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.animal_list(public_only=not self.sees_every_row())

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return AnimalCreateInput
        if self.action == "partial_update":
            return AnimalUpdateInput
        return AnimalSerializer if sees_private(self.request) else AnimalPublicSerializer

    def get_output_serializer(self, instance: Any) -> Any:
        return AnimalSerializer(
            self.get_queryset().get(pk=instance.pk), context=self.get_serializer_context()
        )

    def get_permissions(self) -> list[Any]:
        if self.action in ("locations", "weights") and self.request.method == "GET":
            return [role_permission(read=COLLECTION_STAFF)()]
        if self.action == "weights":
            return [role_permission(write=(Role.CURATOR, Role.VETERINARIAN))()]
        return list(super().get_permissions())

    def perform_create(self, serializer: Any) -> Any:
        data = dict(serializer.validated_data)
        return services.animal_register(
            actor=signed_in_user(self.request),
            habitat=data.pop("habitat"),
            arrived_at=data.pop("arrived_at", None),
            reason=data.pop("reason", ""),
            data=data,
        )

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        return services.animal_update(animal=instance, data=serializer.validated_data)

    def _workflow(self, input_class: type, service: Any, **extra: Any) -> Response:
        animal = self.get_object()
        data = input_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        service(actor=signed_in_user(self.request), animal=animal, **data.validated_data, **extra)
        return Response(self.get_output_serializer(animal).data)

    @extend_schema(
        operation_id="wildlife_animals_move", request=MoveInput, responses={200: AnimalSerializer}
    )
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Move to another habitat (never beyond its capacity); kept in the location history."""
        return self._workflow(MoveInput, services.animal_move)

    @extend_schema(
        operation_id="wildlife_animals_release",
        request=ReleaseInput,
        responses={200: AnimalSerializer},
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        """Return a rescued animal to the wild, with date and place."""
        return self._workflow(ReleaseInput, services.animal_release)

    @extend_schema(
        operation_id="wildlife_animals_status",
        request=StatusInput,
        responses={200: AnimalSerializer},
    )
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request: Request, pk: str | None = None) -> Response:
        """Transferred out to another institution, or deceased."""
        return self._workflow(StatusInput, services.animal_status_set)

    @extend_schema(
        operation_id="wildlife_animals_locations",
        responses={200: LocationSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def locations(self, request: Request, pk: str | None = None) -> Response:
        """Where the animal has been, newest first (paginated like every list)."""
        animal = self.get_object()
        page = self.paginate_queryset(selectors.animal_locations(animal=animal))
        return self.get_paginated_response(LocationSerializer(page, many=True).data)

    @extend_schema(
        methods=["GET"],
        operation_id="wildlife_animals_weights_list",
        responses={200: WeightSerializer(many=True)},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        operation_id="wildlife_animals_weights_create",
        request=WeightInput,
        responses={201: WeightSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def weights(self, request: Request, pk: str | None = None) -> Response:
        """Weight history, newest first (paginated like every list); curators and
        veterinarians add weighings."""
        animal = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.animal_weights(animal=animal))
            return self.get_paginated_response(WeightSerializer(page, many=True).data)
        data = WeightInput(data=request.data)
        data.is_valid(raise_exception=True)
        weight = services.weight_record(
            actor=signed_in_user(request), animal=animal, **data.validated_data
        )
        return Response(WeightSerializer(weight).data, status=status.HTTP_201_CREATED)


class MedicalRecordViewSet(CatalogViewSet):
    """Exams, treatments, vaccinations and necropsies: veterinarians (and administrators) only."""

    permission_classes = [role_permission(read=(Role.VETERINARIAN,), write=(Role.VETERINARIAN,))]
    serializer_class = MedicalRecordSerializer
    filterset_class = MedicalRecordFilter
    search_fields = ("summary", "animal__institutional_id", "animal__house_name")
    ordering_fields = ("performed_on",)
    http_method_names = ["get", "post", "patch", "head", "options"]
    selector = selectors.medical_record_list

    def perform_create(self, serializer: Any) -> Any:
        data = dict(serializer.validated_data)
        animal = data.pop("animal")
        return services.medical_record_create(
            actor=signed_in_user(self.request), animal=animal, data=data
        )

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        data = {key: value for key, value in serializer.validated_data.items() if key != "animal"}
        return services.medical_record_update(record=instance, data=data)


class CensusView(APIView):
    """Head counts by species, habitat, section or status."""

    permission_classes = [role_permission(read=COLLECTION_STAFF)]

    @extend_schema(
        operation_id="wildlife_census",
        parameters=[
            OpenApiParameter(
                "by", enum=["species", "habitat", "section", "status"], default="species"
            )
        ],
        responses={200: CensusSerializer},
    )
    def get(self, request: Request) -> Response:
        by = request.query_params.get("by") or "species"  # sent empty: as if not sent
        if by not in selectors.CENSUS_GROUPS:
            raise serializers.ValidationError({"by": ["Use species, habitat, section or status."]})
        rows = selectors.census(by=by)
        return Response(
            CensusSerializer(
                {"by": by, "total": sum(row["count"] for row in rows), "results": rows}
            ).data
        )
