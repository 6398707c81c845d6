"""What belongs to a visitor is visible to that visitor and to the staff entitled to it.

Everyone else gets 404, not 403: an id that is not yours does not tell you it exists.
Every module fetches owned objects (orders, tickets, enrollments, donations) through this.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Model, QuerySet

from apps.support.security.roles import has_any_role


def visible_to(
    queryset: QuerySet[Any], user: Any, *, owner_field: str, staff_roles: Iterable[str] = ()
) -> QuerySet[Any]:
    """``queryset`` narrowed to what ``user`` may see.

    - anonymous: nothing;
    - administrators and holders of one of ``staff_roles``: everything;
    - anyone else: the rows whose ``owner_field`` is the user (``"owner"``,
      ``"order__buyer"``, or ``"id"`` for the user model itself).
    """
    if not user or not user.is_authenticated:
        return queryset.none()
    if has_any_role(user, staff_roles):
        return queryset
    return queryset.filter(**{owner_field: user.pk})


class OwnedObjectsMixin:
    """For viewsets: lists show, and detail routes find, only what the caller may see."""

    owner_field = "owner"
    owner_staff_roles: tuple[str, ...] = ()

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()  # type: ignore[misc]
        return visible_to(
            queryset,
            self.request.user,  # type: ignore[attr-defined]
            owner_field=self.owner_field,
            staff_roles=self.owner_staff_roles,
        )


def get_visible_or_404(
    queryset: QuerySet[Any],
    user: Any,
    *,
    owner_field: str,
    staff_roles: Iterable[str] = (),
    **lookup: Any,
) -> Model:
    """One object the user may see, else ``Http404`` (the same for "missing" and "not yours")."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        visible_to(queryset, user, owner_field=owner_field, staff_roles=staff_roles), **lookup
    )
