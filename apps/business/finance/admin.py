from django.contrib import admin

from apps.business.payments.admin import RecordInline
from apps.support.common.admin import RecordAdmin

from .models import TOTAL_FIELDS, SalesDay, SalesDayTotal


class SalesDayTotalInline(RecordInline):
    model = SalesDayTotal
    fields = TOTAL_FIELDS
    readonly_fields = fields


@admin.register(SalesDay)
class SalesDayAdmin(RecordAdmin):
    """Summarized days (written by the finance_summarize job and command only)."""

    list_display = ("day", "currency", "computed_at")
    list_filter = ("currency", ("day", admin.DateFieldListFilter))
    date_hierarchy = "day"
    readonly_fields = ("day", "currency", "computed_at")
    inlines = (SalesDayTotalInline,)


@admin.register(SalesDayTotal)
class SalesDayTotalAdmin(RecordAdmin):
    """One day's sales of one kind (ticket type), channel and gateway."""

    list_display = ("sales_day", *TOTAL_FIELDS)
    list_filter = ("kind", "channel", "method", ("sales_day__day", admin.DateFieldListFilter))
    search_fields = ("ticket_type",)
    list_select_related = ("sales_day",)
