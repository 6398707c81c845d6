"""Queries and answers of the finance reports."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.reports import MoneyOutField, ReportQuery, report_group_by, report_serializer
from apps.business.finance.selectors import REFUND_GROUPS, SALES_GROUPS


class SalesQuery(ReportQuery):
    group_by = report_group_by(SALES_GROUPS)


class RefundsQuery(ReportQuery):
    group_by = report_group_by(REFUND_GROUPS)


class SalesTotalsSerializer(serializers.Serializer):
    orders = serializers.IntegerField(help_text=_("Paid orders (each counted once)."))
    items = serializers.IntegerField(help_text=_("Items sold: the sum of the lines' quantities."))
    gross = MoneyOutField(help_text=_("What buyers paid, before refunds."))


class RefundsTotalsSerializer(serializers.Serializer):
    refunds = serializers.IntegerField(help_text=_("Refunds the gateway confirmed."))
    orders = serializers.IntegerField(help_text=_("Orders they gave money back for."))
    amount = MoneyOutField(help_text=_("Money given back."))


# Rows: a day (YYYY-MM-DD), a ticket type's id or another kind of line (enrollment,
# donation...), a channel, or a payment method ("unknown": no payment paid the order).
SalesReportSerializer = report_serializer("Sales", SalesTotalsSerializer)
RefundsReportSerializer = report_serializer("Refunds", RefundsTotalsSerializer)
