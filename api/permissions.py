"""Permission classes that modules declare on their views.

- ``ModelPermissions``: the Django model permission of the action (``view``/``add``/
  ``change``/``delete``), which staff roles (groups) carry; the base viewsets' default.
- ``role_permission(read=..., write=..., public_read=...)``: by role name, for public
  catalogues (``public_read=True``: anyone reads), workflows, reports and the audit trail.
- ``IsAdministrator``: administrators only (user and role management).

Administrators (the ``administrator`` role or a superuser) pass every check. An anonymous
caller who is refused gets 401, an authenticated one 403.
"""

from collections.abc import Iterable
from typing import Any

from rest_framework import permissions
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from apps.support.security.models import User
from apps.support.security.roles import has_any_role, is_administrator


class ModelPermissions(permissions.DjangoModelPermissions):
    """Authenticated users holding the model permission of the action, reads included."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_administrator(request.user) or super().has_permission(request, view)


class RolePermission(permissions.BasePermission):
    """Reads by ``read_roles`` (or anyone when ``public_read``), writes by ``write_roles``."""

    read_roles: tuple[str, ...] = ()
    write_roles: tuple[str, ...] = ()
    public_read = False
    signed_in_read = False

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            if self.public_read:
                return True
            if self.signed_in_read and request.user and request.user.is_authenticated:
                return True
            return has_any_role(request.user, (*self.read_roles, *self.write_roles))
        return has_any_role(request.user, self.write_roles)


def role_permission(
    *,
    read: Iterable[str] = (),
    write: Iterable[str] = (),
    public_read: bool = False,
    signed_in_read: bool = False,
) -> type[RolePermission]:
    """A permission class for these roles, e.g. ``role_permission(read=["auditor"])``;
    ``signed_in_read``: anyone signed in reads (visitors included)."""
    read_roles, write_roles = tuple(read), tuple(write)
    label = "_".join((*read_roles, "w", *write_roles)) or "administrators"
    if signed_in_read:
        label = f"signed_in_{label}"
    return type(
        f"RolePermission_{label}",
        (RolePermission,),
        {
            "read_roles": read_roles,
            "write_roles": write_roles,
            "public_read": public_read,
            "signed_in_read": signed_in_read,
        },
    )


class IsAdministrator(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return is_administrator(request.user)


def signed_in_user(request: Request) -> User:
    """The caller of a view that requires authentication (its permission class ran first)."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated
    return user
