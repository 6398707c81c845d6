"""Reports over a period of the park's days, as JSON for charts or as CSV, shared by every
report of the API (finance's sales and refunds today; donations next).

A report is a ``ReportView`` subclass that declares its query (a ``ReportQuery`` subclass
naming its ``group_by`` choices), its output serializer (``report_serializer`` of the
serializer of its measures), its CSV columns and its selector (``period=``, ``group_by=``,
returning an ``apps.support.common.reports.Report``); ``report_schema`` documents it::

    class DonationsQuery(ReportQuery):
        group_by = report_group_by(("campaign", "day"))

    class DonationTotalsSerializer(serializers.Serializer):
        donations = serializers.IntegerField()
        amount = MoneyOutField()

    class DonationsReportView(ReportView):
        name = "donations"
        query_class = DonationsQuery
        serializer_class = report_serializer("Donations", DonationTotalsSerializer)
        csv_columns = ("key", "label", "donations", "amount")
        selector = staticmethod(selectors.donations_report)

    report_schema(operation_id="payments_reports_donations", query=DonationsQuery,
                  view=DonationsReportView)

The view validates ``from``/``to``/``group_by`` (400 ``validation_error`` with field errors),
answers JSON or, for ``Accept: text/csv`` or ``?format=csv``, CSV whose cells a spreadsheet
never runs; errors stay JSON in the one error shape either way (``api.renderers.CSVRenderer``).
"""

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any, ClassVar

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.support.common.csv_export import csv_lines
from apps.support.common.reports import MAX_DAYS, Period, Report
from apps.support.security.roles import REPORT_STAFF

from .permissions import role_permission
from .renderers import CSVRenderer
from .serializers import InputSerializer

# ASCII digits only, years 1900 to 2999: what the schema says is exactly what is accepted
# (Python would also read other scripts' digits, and 9999-12-31 has no day after it).
DATE_PATTERN = r"^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$"


@extend_schema_field({"type": "string", "format": "date", "pattern": DATE_PATTERN})
class ReportDateField(serializers.DateField):
    default_error_messages = {
        "invalid": _("A date written YYYY-MM-DD, from 1900 to 2999, is required."),
    }

    def to_internal_value(self, value: Any) -> date:
        if not isinstance(value, str) or not re.fullmatch(DATE_PATTERN, value):
            self.fail("invalid")
        return super().to_internal_value(value)


def report_group_by(choices: Sequence[str], default: str = "day") -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=list(choices), default=default, help_text=_("How the rows are grouped.")
    )


class ReportQuery(InputSerializer):
    """``?from=2026-03-01&to=2026-03-31&group_by=day``: whole days of the park's time zone,
    both included, at most ``MAX_DAYS`` of them. Subclasses declare ``group_by``."""

    locals()["from"] = ReportDateField(
        help_text=_("First day (included), in the park's time zone.")
    )
    locals()["to"] = ReportDateField(help_text=_("Last day (included), in the park's time zone."))
    # DRF reads ?format= itself (content negotiation); declared so it is not an unknown field.
    format = serializers.ChoiceField(
        choices=["json", "csv"],
        required=False,
        help_text=_("csv for a CSV file (as Accept: text/csv); json by default."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = attrs["from"], attrs["to"]
        if last < first:
            raise serializers.ValidationError({"to": _("Must not be before from.")})
        if last - first > timedelta(days=MAX_DAYS - 1):
            raise serializers.ValidationError(
                {"to": _("At most %(days)d days at a time.") % {"days": MAX_DAYS}}
            )
        attrs["period"] = Period(date_from=first, date_to=last)
        return attrs


class MoneyOutField(serializers.DecimalField):
    """A sum of money as a decimal string with two decimals ("1234.50"), however large."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=None, decimal_places=2, read_only=True, **kwargs)


class ReportSerializer(serializers.Serializer):
    """A report: what was asked (from, to, group_by), the currency of every amount, one row
    per group and the totals of the whole period."""

    locals()["from"] = serializers.DateField(source="period.date_from")
    locals()["to"] = serializers.DateField(source="period.date_to")
    group_by = serializers.CharField()
    currency = serializers.CharField(help_text=_("The park's currency, of every amount."))


class ReportGroupSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text=_("The group: a day (YYYY-MM-DD), or the code or id of what is grouped.")
    )
    # "label" is also an attribute of every field: declared as a field the other way.
    locals()["label"] = serializers.CharField(
        help_text=_("The group's name, in the request's language.")
    )


def report_serializer(name: str, totals: type[serializers.Serializer]) -> type[ReportSerializer]:
    """The serializer of a report whose rows carry ``totals``' measures per group: the
    schema's components ``<name>Report`` and ``<name>Row``."""
    row = type(f"{name}RowSerializer", (ReportGroupSerializer, totals), {})
    fields = {"rows": row(many=True), "totals": totals(), "__module__": totals.__module__}
    return type(f"{name}ReportSerializer", (ReportSerializer,), fields)


class ReportView(APIView):
    """GET a report: JSON (``serializer_class``) or CSV (``csv_columns`` of each row)."""

    permission_classes = [role_permission(read=REPORT_STAFF)]
    renderer_classes = [JSONRenderer, CSVRenderer]
    name: ClassVar[str]
    query_class: ClassVar[type[ReportQuery]]
    serializer_class: ClassVar[type[ReportSerializer]]
    csv_columns: ClassVar[tuple[str, ...]]
    selector: ClassVar[Callable[..., Report]]  # (period=, group_by=) -> Report

    def get(self, request: Request) -> HttpResponse:
        # A parameter sent empty counts as not sent; sent twice, the last one counts.
        query = self.query_class(
            data={key: value for key, value in request.query_params.items() if value}
        )
        query.is_valid(raise_exception=True)
        period: Period = query.validated_data["period"]
        group_by: str = query.validated_data["group_by"]
        report = type(self).selector(period=period, group_by=group_by)
        data = self.serializer_class(report).data
        if request.accepted_renderer.format != "csv":
            return Response(data)
        return csv_response(
            data,
            columns=self.csv_columns,
            filename=f"{self.name}-{group_by}-{period.date_from}-{period.date_to}.csv",
        )


def report_schema(
    *, operation_id: str, query: type[ReportQuery], view: type[ReportView]
) -> type[ReportView]:
    """Documents a report's operation: its query parameters, its JSON and its CSV."""
    description = (
        "JSON; or with Accept: text/csv or ?format=csv, CSV: a header, then one row per "
        f"group: {', '.join(view.csv_columns)}, currency."
    )
    responses = {
        (200, "application/json"): OpenApiResponse(view.serializer_class, description=description),
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=description),
    }
    operation = extend_schema(operation_id=operation_id, parameters=[query], responses=responses)
    return extend_schema_view(get=operation)(view)


def csv_response(data: dict[str, Any], *, columns: Sequence[str], filename: str) -> HttpResponse:
    """A serialized report's rows as CSV: ``columns`` of each row, then its currency."""
    rows = ([row[column] for column in columns] + [data["currency"]] for row in data["rows"])
    response = HttpResponse(
        "".join(csv_lines([*columns, "currency"], rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
