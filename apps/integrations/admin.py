from django.contrib import admin

from apps.support.common.admin import RecordAdmin

from .models import SandboxLedgerEntry


@admin.register(SandboxLedgerEntry)
class SandboxLedgerEntryAdmin(RecordAdmin):
    """What the sandbox "bank" charged and refunded: its statement, written by the gateway as
    it answered. Read-only."""

    list_display = (
        "occurred_at",
        "kind",
        "reference",
        "payment_reference",
        "amount_minor",
        "currency",
        "status",
    )
    list_filter = ("kind", "status", "currency")
    search_fields = ("reference", "payment_reference")
    date_hierarchy = "occurred_at"
