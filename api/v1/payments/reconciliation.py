"""/api/v1/payments/reports/reconciliation/: each gateway's statement of a day against the
park's payments and refunds, for finance and auditors; finance fetches a day again (ADR 31)."""

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import role_permission, signed_in_user
from api.renderers import CSVRenderer
from api.serializers import InputSerializer
from apps.business.payments import selectors, services
from apps.business.payments.exports import COLUMNS, reconciliation_csv
from apps.business.payments.reconciliation import DIFFERENCE_CODES
from apps.support.security.roles import INVOICE_STAFF, Role

EARLIEST = dt.date(2000, 1, 1)


class ReconciliationDay(InputSerializer):
    date = serializers.DateField(help_text="The park's local day, YYYY-MM-DD; not in the future.")

    def validate_date(self, value: dt.date) -> dt.date:
        if value > timezone.localdate():
            raise serializers.ValidationError(_("The day must not be in the future."))
        if value < EARLIEST:
            raise serializers.ValidationError(_("The day must not be before 2000."))
        return value


class ReconciliationQuery(ReconciliationDay):
    format = serializers.ChoiceField(
        choices=["json", "csv"],
        required=False,
        help_text="`csv` answers CSV, as `Accept: text/csv` does.",
    )


def _amount(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **options)


class TotalsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    amount = _amount()


class ItemSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Empty for a matched item; else one of: "
        + ", ".join(f"`{code}`" for code in DIFFERENCE_CODES)
        + "."
    )
    kind = serializers.CharField(help_text="`payment`, `refund`, or empty for a statement's code.")
    order = serializers.CharField(help_text="The park's order code, when the park has it.")
    gateway_reference = serializers.CharField()
    capture_reference = serializers.CharField()
    refund_reference = serializers.CharField()
    gateway_amount = _amount(allow_null=True)
    park_amount = _amount(allow_null=True)
    currency = serializers.CharField()
    gateway_status = serializers.CharField()
    park_status = serializers.CharField(
        help_text="A payment's status and its order's (`succeeded/paid`), a refund's status."
    )
    detail = serializers.CharField(help_text="Why a statement failed.")


class GatewayReconciliationSerializer(serializers.Serializer):
    gateway = serializers.CharField()
    statement_status = serializers.ChoiceField(choices=["ok", "failed", "missing"])
    fetched_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField()
    gateway_payments = TotalsSerializer(help_text="Succeeded payments the gateway states.")
    gateway_refunds = TotalsSerializer()
    park_payments = TotalsSerializer(help_text="Payments the park recorded as taken that day.")
    park_refunds = TotalsSerializer()
    matched = ItemSerializer(many=True)
    differences = ItemSerializer(many=True)


class CounterTotalsSerializer(serializers.Serializer):
    method = serializers.CharField()
    payments = TotalsSerializer()
    refunds = TotalsSerializer()


class ReconciliationSerializer(serializers.Serializer):
    date = serializers.DateField()
    currency = serializers.CharField()
    differences_count = serializers.IntegerField()
    gateways = GatewayReconciliationSerializer(many=True)
    counter = CounterTotalsSerializer(
        many=True, help_text="Cash and card at the counter: the park's totals; no gateway."
    )


class ReconciliationView(APIView):
    """Each gateway's payments and refunds of the day, as its fetched statement states them,
    against what the park recorded; every difference flagged with a code."""

    permission_classes = [role_permission(read=INVOICE_STAFF)]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        operation_id="payments_reports_reconciliation",
        parameters=[ReconciliationQuery],
        responses={
            200: ReconciliationSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="One row per total and item: " + ", ".join(COLUMNS) + ".",
            ),
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        query = ReconciliationQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data["date"]
        report = selectors.reconciliation(day)
        if request.accepted_renderer.format == "csv":
            response = HttpResponse(
                "".join(reconciliation_csv(report)), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = (
                f'attachment; filename="reconciliation-{day.isoformat()}.csv"'
            )
            return response
        return Response(ReconciliationSerializer(report).data)


class ReconciliationFetchView(APIView):
    """Fetch every enabled gateway's statement of the day again, now (finance), and answer the
    day's reconciliation. A gateway that fails is shown failed; the others are stored."""

    permission_classes = [role_permission(write=(Role.FINANCE,))]

    @extend_schema(
        operation_id="payments_reports_reconciliation_fetch",
        request=ReconciliationDay,
        responses={200: ReconciliationSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ReconciliationDay(data=request.data)
        data.is_valid(raise_exception=True)
        day = data.validated_data["date"]
        services.statements_fetch(day=day, actor=signed_in_user(request))
        return Response(ReconciliationSerializer(selectors.reconciliation(day)).data)
