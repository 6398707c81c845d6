"""The staff back office's site (Django admin, at /admin/): its names, and who sees what.

Who may view, add, change or delete a model is what the API lets them do with it
(``api.back_office``), asked once per request and model; models the API does not list keep
the model permissions of the roles. The sign-in records of Axes and the tokens of the token
blacklist are the security staff's: superusers only.

Its first page is the dashboard (``api.back_office_dashboard``), and a signed-in member of
staff reads it in the language of their profile (``User.preferred_language``).
"""

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

ViewType = TypeVar("ViewType", bound=Callable[..., HttpResponseBase])

# Apps whose records only superusers see or touch in the back office.
SUPERUSER_APPS = frozenset({"axes", "token_blacklist"})


class SuperusersOnly:
    """Narrows a third-party admin to superusers."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)  # type: ignore[misc]


class BackOfficeSite(admin.AdminSite):
    site_header = _("Parque Marino back office")
    site_title = _("Parque Marino back office")
    index_title = _("Park operations")
    index_template = "admin/back_office/index.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        """The models' list, under the panels of the signed-in user's roles."""
        from api import back_office_dashboard

        context = {
            "dashboard": back_office_dashboard.panels(request, self),
            **(extra_context or {}),
        }
        return super().index(request, context)

    def admin_view(self, view: ViewType, cacheable: bool = False) -> ViewType:
        """Every page of the site (not its sign-in page), in the signed-in user's language:
        their profile's ``preferred_language`` (every account has one; Spanish unless they
        chose otherwise). Before sign-in, the browser's (``LocaleMiddleware``)."""
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def in_staff_language(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            language = getattr(request.user, "preferred_language", "")
            if request.user.is_authenticated and language:
                # Activated, not overridden: the page is rendered after the view returns.
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
            return inner(request, *args, **kwargs)

        return cast(ViewType, in_staff_language)

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        models: list[type[Model]] = (
            [model_or_iterable] if isinstance(model_or_iterable, type) else model_or_iterable
        )
        for model in models:
            model_admin = admin_class or admin.ModelAdmin
            if model._meta.app_label in SUPERUSER_APPS:
                model_admin = type(model_admin.__name__, (SuperusersOnly, model_admin), {})
            super().register(model, model_admin, **options)

    def access(self, request: HttpRequest, model: type[Model], permission: str) -> bool | None:
        """What the API lets the signed-in user do with ``model`` (``view``, ``add``,
        ``change``, ``delete``); ``None``: the API does not say (model permissions decide)."""
        from api import back_office

        answers = request.__dict__.setdefault("_back_office_access", {})
        key = (model, permission)
        if key not in answers:
            answers[key] = back_office.allows(request.user, model, permission)
        return answers[key]
