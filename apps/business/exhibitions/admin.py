"""Exhibitions in the staff back office: what exists and its state, searchable and filtered,
read-only. They are written in the editors' screen (/cms/, Wagtail) or through the API, where
every save is a revision; each row here links there."""

from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.support.common.admin import RecordAdmin

from .models import Exhibition, ExhibitionImage, PreviewLink


@admin.register(Exhibition)
class ExhibitionAdmin(RecordAdmin):
    list_display = (
        "title_es",
        "slug",
        "kind",
        "live",
        "has_unpublished_changes",
        "opens_on",
        "closes_on",
        "expire_at",
        "editors_screen",
    )
    list_filter = ("live", "kind", "has_unpublished_changes", "section", "opens_on")
    search_fields = ("title_es", "title_en", "slug", "summary_es")
    date_hierarchy = "opens_on"
    list_select_related = ("section",)
    readonly_fields = ("editors_screen",)
    fields = (
        "editors_screen",
        "slug",
        "kind",
        "title_es",
        "title_en",
        "summary_es",
        "summary_en",
        "section",
        "habitat",
        "opens_on",
        "closes_on",
        "live",
        "has_unpublished_changes",
        "first_published_at",
        "last_published_at",
        "expire_at",
        "locked",
        "locked_by",
    )

    @admin.display(description=_("editors' screen"))
    def editors_screen(self, exhibition: Exhibition) -> Any:
        url = reverse("wagtailsnippets_exhibitions_exhibition:edit", args=[exhibition.pk])
        return format_html('<a href="{}">{}</a>', url, _("Edit, publish, revisions"))


@admin.register(ExhibitionImage)
class ExhibitionImageAdmin(RecordAdmin):
    list_display = ("title", "alt_text_es", "credit", "width", "height", "file_size", "created_at")
    search_fields = ("title", "alt_text_es", "alt_text_en", "credit")
    list_filter = ("created_at",)
    fields = ("title", "alt_text_es", "alt_text_en", "credit", "file", "width", "height")


@admin.register(PreviewLink)
class PreviewLinkAdmin(RecordAdmin):
    """Links are made and revoked through the API; here they can be found and looked at."""

    list_display = (
        "exhibition",
        "revision",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "uses",
    )
    list_filter = ("created_at", "expires_at")
    search_fields = ("exhibition__slug", "exhibition__title_es", "created_by__email")
    list_select_related = ("exhibition", "created_by")
    exclude = ("token_hash",)
