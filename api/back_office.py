"""What the back office lets a member of staff do with a model, read from the API.

The API declares who may do what on each of its resources (``permission_classes``,
``every_row_roles``, ``owner_staff_roles``); the back office (``config.admin``) asks here
instead of keeping a second list, so the two never disagree. For a model the API lists
(``GET /api/v1/<module>/<resource>/``):

- view: the caller may list the resource and lists every row of it (the back office shows
  every row: a visitor's own orders, or only the public species, are not a reason to show the
  model there);
- add, change, delete: the caller may view it and the API lets them ``POST`` the list,
  ``PATCH`` or ``DELETE`` an item. A write the API does not offer at all is left to the model
  permissions of the caller's roles, as before.

The verdict is the permission classes' own: each is asked with a request made for that
method, from the caller, on a view of that resource.
"""

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.request import Request

from apps.support.security.roles import has_any_role

# The admin's permissions and the API's method and action of each.
WRITES = {
    "add": ("POST", "create"),
    "change": ("PATCH", "partial_update"),
    "delete": ("DELETE", "destroy"),
}


@dataclass(frozen=True)
class Resource:
    """A viewset that lists a model, and the actions its routes offer."""

    route: str
    viewset: type
    initkwargs: dict[str, Any]
    actions: frozenset[str]

    def view(self, user: Any, method: str, action: str) -> Any:
        request = Request(RequestFactory().generic(method, f"/{self.route}"))
        request.user = user
        view = self.viewset(**self.initkwargs)
        view.request, view.action, view.args, view.kwargs = request, action, (), {}
        view.format_kwarg = None
        return view

    def allows(self, user: Any, method: str, action: str) -> bool:
        view = self.view(user, method, action)
        return all(
            permission.has_permission(view.request, view) for permission in view.get_permissions()
        )

    def sees_every_row(self, user: Any) -> bool:
        roles = getattr(self.viewset, "owner_staff_roles", None)
        if roles is None:
            roles = getattr(self.viewset, "every_row_roles", None)
        return roles is None or has_any_role(user, roles)


def _patterns(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _model(resource: Resource) -> type[Model] | None:
    try:
        return resource.view(AnonymousUser(), "GET", "list").get_queryset().model
    except Exception:  # a list that needs more than a plain GET to build its queryset
        return None


@functools.cache
def resources() -> dict[type[Model], Resource]:
    """Each model the API lists, with the first resource that lists it (``/api/v1/``)."""
    found: dict[type[Model], Resource] = {}
    by_viewset: dict[type, set[str]] = {}
    lists: list[Resource] = []
    for route, pattern in _patterns(get_resolver().url_patterns):
        viewset = getattr(pattern.callback, "cls", None)
        actions = getattr(pattern.callback, "actions", None)
        if not route.startswith("api/v1/") or viewset is None or not actions:
            continue
        by_viewset.setdefault(viewset, set()).update(actions.values())
        if actions.get("get") == "list":
            initkwargs = getattr(pattern.callback, "initkwargs", {})
            lists.append(Resource(route, viewset, initkwargs, frozenset()))
    for listed in lists:
        resource = Resource(
            listed.route, listed.viewset, listed.initkwargs, frozenset(by_viewset[listed.viewset])
        )
        model = _model(resource)
        if model is not None:
            found.setdefault(model, resource)
    return found


def allows(user: Any, model: type[Model], permission: str) -> bool | None:
    """Whether ``user`` may ``permission`` (view, add, change, delete) ``model`` in the back
    office by the API's rules; ``None`` when the API does not list the model, or does not
    offer that write (the model permissions decide)."""
    resource = resources().get(model)
    if resource is None:
        return None
    viewing = resource.allows(user, "GET", "list") and resource.sees_every_row(user)
    if permission == "view":
        return viewing
    method, action = WRITES[permission]
    if action not in resource.actions and not (
        action == "partial_update" and "update" in resource.actions
    ):
        return None if viewing else False
    return viewing and resource.allows(user, method, action)
