from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditChainHead, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is a record. Nobody adds, changes or deletes entries here."""

    list_display = ("sequence", "occurred_at", "actor_label", "action", "target_type", "target_id")
    list_filter = ("action", "target_type", "occurred_at")
    search_fields = ("actor_label", "action", "target_type", "target_id", "request_id")
    date_hierarchy = "occurred_at"
    ordering = ("-sequence",)
    list_per_page = 50

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(admin.ModelAdmin):
    """The chain's head (entry count and last hash), shown for verification; never edited."""

    list_display = ("sequence", "last_hash")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
