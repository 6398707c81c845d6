from django.contrib import admin

from apps.support.common.admin import RecordAdmin

from .models import AuditChainHead, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(RecordAdmin):
    """The trail is a record: nobody adds, changes or deletes entries here."""

    list_display = ("sequence", "occurred_at", "actor_label", "action", "target_type", "target_id")
    list_filter = ("action", "target_type", "occurred_at")
    search_fields = ("actor_label", "action", "target_type", "target_id", "request_id")
    date_hierarchy = "occurred_at"
    ordering = ("-sequence",)
    list_per_page = 50


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(RecordAdmin):
    """The chain's head (entry count and last hash), shown for verification."""

    list_display = ("sequence", "last_hash")
