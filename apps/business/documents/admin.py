"""Documents in the back office: folders written through the services (roles and the
visibility rule checked); documents, versions, downloads and share links shown as records,
changed only by actions that call the services (trash, restore, revoke). Uploads go through
the API, which stores the file before its row (docs/adr/0037)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.support.common.admin import (
    BackOfficeAdmin,
    BackOfficeInline,
    RecordAdmin,
    ServiceForm,
    ServiceFormAdmin,
)

from . import services
from .models import Document, DocumentAccess, DocumentVersion, Folder, ShareLink, Tag


class FolderForm(ServiceForm):
    class Meta:
        model = Folder
        fields = services.FOLDER_FIELDS

    def write(self) -> Folder:
        data = self.submitted(services.FOLDER_FIELDS)
        if self.adding:
            return services.folder_create(actor=self.actor, data=data)
        return services.folder_update(actor=self.actor, folder=self.instance, data=data)


@admin.register(Folder)
class FolderAdmin(ServiceFormAdmin):
    form = FolderForm
    list_display = ("name", "parent", "is_public", "role_list", "updated_at")
    list_filter = ("is_public", "roles")
    search_fields = ("name", "description")
    filter_horizontal = ("roles",)
    list_select_related = ("parent",)

    @admin.display(description=_("roles"))
    def role_list(self, folder: Folder) -> str:
        return ", ".join(sorted(group.name for group in folder.roles.all()))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("roles")


@admin.register(Tag)
class TagAdmin(BackOfficeAdmin):
    list_display = ("name",)
    search_fields = ("name",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VersionInline(BackOfficeInline):
    model = DocumentVersion
    fields = (
        "number",
        "filename",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "created_at",
        "note",
        "restored_from",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-number",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InTrashFilter(admin.SimpleListFilter):
    title = _("trash")
    parameter_name = "trash"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", str(_("In use"))), ("yes", str(_("In the trash")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


@admin.register(Document)
class DocumentAdmin(RecordAdmin):
    list_display = (
        "title",
        "folder",
        "version_count",
        "current_version",
        "updated_at",
        "deleted_at",
    )
    list_filter = (InTrashFilter, "folder", "tags")
    search_fields = ("title", "description", "search_text")
    date_hierarchy = "created_at"
    list_select_related = ("folder", "current_version")
    inlines = (VersionInline,)
    exclude = ("search_text",)
    actions = ("trash", "restore")

    def has_trash_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("documents.change_document"))

    @admin.action(description=_("Move to the trash"), permissions=["trash"])
    def trash(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            services.document_trash(actor=request.user, document=document)
        self.message_user(request, _("%(count)d moved to the trash.") % {"count": len(queryset)})

    @admin.action(description=_("Restore from the trash"), permissions=["trash"])
    def restore(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        restored = 0
        for document in queryset.filter(deleted_at__isnull=False):
            services.document_restore(actor=request.user, document=document)
            restored += 1
        self.message_user(request, _("%(count)d restored.") % {"count": restored})


@admin.register(DocumentVersion)
class DocumentVersionAdmin(RecordAdmin):
    list_display = (
        "document",
        "number",
        "filename",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "created_at",
    )
    list_filter = ("content_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("document__title", "filename", "sha256")
    list_select_related = ("document", "uploaded_by")
    exclude = ("text",)


@admin.register(DocumentAccess)
class DocumentAccessAdmin(RecordAdmin):
    list_display = (
        "accessed_at",
        "document",
        "version",
        "channel",
        "user",
        "share_link",
        "ip_address",
    )
    list_filter = ("channel", ("accessed_at", admin.DateFieldListFilter))
    search_fields = ("document__title", "user__email", "ip_address", "user_agent")
    date_hierarchy = "accessed_at"
    list_select_related = ("document", "version", "user", "share_link")


@admin.register(ShareLink)
class ShareLinkAdmin(RecordAdmin):
    list_display = (
        "document",
        "note",
        "created_by",
        "created_at",
        "expires_at",
        "max_downloads",
        "download_count",
        "revoked_at",
    )
    list_filter = (
        ("expires_at", admin.DateFieldListFilter),
        ("revoked_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("document__title", "note", "created_by__email")
    list_select_related = ("document", "created_by")
    exclude = ("token_hash",)
    actions = ("revoke",)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("documents.change_sharelink"))

    @admin.action(description=_("Revoke"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ShareLink]) -> None:
        for link in queryset:
            services.share_link_revoke(actor=request.user, link=link)
        self.message_user(request, _("%(count)d revoked.") % {"count": len(queryset)})
