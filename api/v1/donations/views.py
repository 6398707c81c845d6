"""/api/v1/payments/campaigns/ and /api/v1/payments/donations/: fundraising campaigns (public
progress and donor walls) and the gifts made to them. Gifts are given as order lines of kind
``donation`` (POST /api/v1/payments/orders/)."""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from api.conditional import CachedReadMixin
from api.ownership import OwnedObjectsMixin
from api.pagination import KnownCount
from api.permissions import role_permission
from api.renderers import PDFRenderer
from api.reports import ReportView, report_schema
from api.viewsets import BaseViewSet, CatalogReadViewSet, ServiceCreateMixin, ServiceUpdateMixin
from apps.business.donations import errors, selectors, services
from apps.business.donations.models import DonationStatus
from apps.business.donations.receipts import receipt_pdf
from apps.support.common import readcache
from apps.support.common.errors import ConflictError
from apps.support.security.roles import CAMPAIGN_EDITORS, DONATION_STAFF

from .filters import CampaignFilter, DonationFilter
from .serializers import (
    CampaignImageInput,
    CampaignSerializer,
    DonationSerializer,
    DonationsQuery,
    DonationsReportSerializer,
    DonorWallSerializer,
)

CAMPAIGN_STAFF = (*CAMPAIGN_EDITORS, *DONATION_STAFF)


class CampaignViewSet(CachedReadMixin, ServiceCreateMixin, ServiceUpdateMixin, CatalogReadViewSet):
    """Fundraising campaigns. Everyone reads the public ones that have started, with their
    progress (raised, donors, percentage of the goal, days left) from running totals: reading
    one costs the same with ten gifts or a hundred thousand. Finance and content editors write
    them; campaigns are never deleted (gifts refer to them): close one with ``ends_at`` or
    ``is_public``."""

    permission_classes = [role_permission(public_read=True, write=CAMPAIGN_EDITORS)]
    every_row_roles = CAMPAIGN_STAFF
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    search_fields = ("title_es", "title_en", "slug")
    ordering_fields = ("starts_at", "ends_at", "raised", "goal")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    cache_namespaces = (readcache.CAMPAIGNS,)

    def cache_valid_until(
        self, request: Request, response: Response, since: datetime
    ) -> datetime | None:
        return selectors.campaigns_change_at(since)

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.campaign_list(staff=self.sees_every_row())

    def perform_create(self, serializer: Any) -> Any:
        return services.campaign_create(data=serializer.validated_data)

    def perform_update(self, instance: Any, serializer: Any) -> Any:
        return services.campaign_update(campaign=instance, data=serializer.validated_data)

    @extend_schema(
        operation_id="payments_campaigns_image_update",
        request={"multipart/form-data": CampaignImageInput},
        responses={200: CampaignSerializer},
        filters=False,
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser], url_path="image")
    def set_image(self, request: Request, pk: str | None = None) -> Response:
        """Replace the campaign's picture (JPEG, PNG or WebP, checked by its content)."""
        campaign = self.get_object()
        data = CampaignImageInput(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_image_set(
            campaign=campaign, image=data.validated_data["image"]
        )
        return Response(self.get_serializer(campaign).data)

    @extend_schema(
        operation_id="payments_campaigns_image_destroy", responses={204: None}, filters=False
    )
    @set_image.mapping.delete
    def remove_image(self, request: Request, pk: str | None = None) -> Response:
        services.campaign_image_set(campaign=self.get_object(), image=None)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="payments_campaigns_donors",
        responses={200: DonorWallSerializer(many=True)},
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def donors(self, request: Request, pk: str | None = None) -> Response:
        """The campaign's donor wall, newest first: each paid gift's amount, message and the
        donor's name unless they gave anonymously. Never an email."""
        campaign = self.get_object()
        # The campaign's running count of paid gifts is the wall's length: no COUNT(*).
        gifts = KnownCount(selectors.donor_wall(campaign), campaign.donation_count)
        page = self.paginate_queryset(gifts)  # type: ignore[arg-type]
        return self.get_paginated_response(DonorWallSerializer(page, many=True).data)


class DonationViewSet(
    OwnedObjectsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet
):
    """Gifts: a visitor's own; every one for finance and auditors. Records: read-only (a gift
    is given back by refunding its order line)."""

    permission_classes = [IsAuthenticated]
    serializer_class = DonationSerializer
    selector = selectors.donation_list
    filterset_class = DonationFilter
    search_fields = ("donor_name", "email", "order__code")
    ordering_fields = ("created_at", "paid_at", "amount")
    owner_field = "donor"
    owner_staff_roles = DONATION_STAFF

    @extend_schema(
        operation_id="payments_donations_receipt",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The receipt as emailed (A5)."
            ),
            409: OpenApiResponse(description="`receipt_unavailable`: the gift is not paid."),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def receipt(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The receipt of a paid gift (a refunded one has none)."""
        donation = self.get_object()
        if donation.status != DonationStatus.PAID:
            raise ConflictError(
                _("Only a paid donation has a receipt."), code=errors.RECEIPT_UNAVAILABLE
            )
        response = HttpResponse(receipt_pdf(donation), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{donation.receipt_number}.pdf"'
        return response


class DonationsReportView(ReportView):
    """Gifts paid in the period, per campaign (the general fund as "general") or per day
    (every day, zeros included): how many, distinct donors, the amount given and, of it, what
    was refunded since. For finance and auditors; no donor's name or email."""

    name = "donations"
    query_class = DonationsQuery
    serializer_class = DonationsReportSerializer
    csv_columns = ("key", "label", "donations", "donors", "given", "refunded")
    selector = staticmethod(selectors.donations_report)


report_schema(
    operation_id="payments_reports_donations", query=DonationsQuery, view=DonationsReportView
)
