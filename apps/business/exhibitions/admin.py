"""Exhibitions in the staff back office: what exists and its state, searchable and filtered,
read-only. They are written in the editors' screen (/cms/, Wagtail) or through the API, where
every save is a revision; each row here links there. "Publish" and "Unpublish" on the list
call ``services.exhibition_publish`` and ``services.exhibition_unpublish`` as the API's
``publish/`` and ``unpublish/`` do, for whom the API lets write exhibitions (content editors,
curators, administrators)."""

from collections.abc import Callable
from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.support.common.admin import RecordAdmin
from apps.support.common.errors import ServiceError
from apps.support.security.models import User

from . import services
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

    actions = ("publish", "unpublish")

    def has_publish_permission(self, request: HttpRequest) -> bool:
        """Who may write exhibitions through the API (``PATCH``) may publish and unpublish
        them there: the same roles."""
        return bool(self._access(request, "change"))

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Exhibition],
        service: Callable[..., Exhibition],
        done: Callable[[int], str],
    ) -> None:
        actor = cast(User, request.user)  # admin_view: a signed-in member of staff
        count = 0
        for exhibition in queryset.order_by("slug"):
            try:
                service(actor=actor, exhibition=exhibition)
            except ServiceError as error:
                self._refused(request, exhibition, str(error.message))
            except ValidationError as error:  # the draft does not validate (its body...)
                self._refused(request, exhibition, " ".join(error.messages))
            else:
                count += 1
        if count:
            self.message_user(request, done(count), messages.SUCCESS)

    def _refused(self, request: HttpRequest, exhibition: Exhibition, reason: str) -> None:
        self.message_user(
            request,
            _("%(exhibition)s: %(reason)s") % {"exhibition": exhibition.slug, "reason": reason},
            messages.ERROR,
        )

    @admin.action(description=_("Publish the latest draft now"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Exhibition]) -> None:
        self._each(
            request,
            queryset,
            services.exhibition_publish,
            lambda count: (
                ngettext(
                    "%(count)d exhibition published.", "%(count)d exhibitions published.", count
                )
                % {"count": count}
            ),
        )

    @admin.action(description=_("Unpublish now"), permissions=["publish"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Exhibition]) -> None:
        self._each(
            request,
            queryset,
            services.exhibition_unpublish,
            lambda count: (
                ngettext(
                    "%(count)d exhibition unpublished.", "%(count)d exhibitions unpublished.", count
                )
                % {"count": count}
            ),
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
