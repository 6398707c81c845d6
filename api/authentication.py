"""Bearer tokens (simplejwt) whose user is read with its roles in one statement.

Nearly every request checks a role (``role_permission``), and the audit entry of a write
names them: read apart, they were a second statement on every request. simplejwt's own
checks (unknown or inactive user, password changed since the token) stay as they are.
"""

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication

from apps.support.common.statements import Compiled

# The names of the user's groups as a JSON array (NULL without any), per database.
_ROLE_NAMES_SQL = {
    "postgresql": "json_agg(g.name)",
    "mysql": "JSON_ARRAYAGG(g.name)",
    "sqlite": "json_group_array(g.name)",
}
_ROLES_OF_USER = """(
SELECT {names} FROM auth_group g
JOIN security_user_groups ug ON ug.group_id = g.id
WHERE ug.user_id = security_user.id
)"""


def _user_with_roles(user_id: int) -> QuerySet[Any]:
    names = _ROLE_NAMES_SQL[connection.vendor]
    subquery = _ROLES_OF_USER.format(names=names)  # constant text: nothing of a request
    return (
        get_user_model().objects.filter(pk=user_id).annotate(role_names_json=RawSQL(subquery, ()))  # noqa: S611
    )


# Compiled once per process (docs/adr/0053): it runs on every signed-in request.
_USER_WITH_ROLES = Compiled(_user_with_roles)
_LARGEST_KEY = 2**63 - 1


class _UsersWithRoles:
    """What simplejwt asks of its user model (``objects.get``, ``DoesNotExist``), answered
    by users read with their role names."""

    DoesNotExist = get_user_model().DoesNotExist

    @property
    def objects(self) -> "_UsersWithRoles":
        return self

    def get(self, **lookup: Any) -> Any:
        (user_id,) = lookup.values()  # simplejwt's USER_ID_FIELD: the key
        if isinstance(user_id, str) and 0 < len(user_id) <= 19 and user_id.isascii():
            # A token's claim may carry it as text (at most a key's 19 digits: int() refuses
            # thousands of them, and takes Unicode digits a key never has).
            user_id = int(user_id) if user_id.isdigit() else None
        if type(user_id) is not int or not 0 < user_id <= _LARGEST_KEY:
            raise self.DoesNotExist
        found = _USER_WITH_ROLES(user_id)
        if not found:
            raise self.DoesNotExist
        return found[0]


class JWTAuthentication(authentication.JWTAuthentication):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = _UsersWithRoles()  # type: ignore[assignment]

    def get_user(self, validated_token: Any) -> Any:
        user = super().get_user(validated_token)
        names: Any = getattr(user, "role_names_json", None)
        if isinstance(names, str | bytes):
            names = json.loads(names)
        user._role_names = frozenset(names or ())  # type: ignore[attr-defined]  # roles.role_names
        return user


class JWTScheme(SimpleJWTScheme):
    """The API docs describe it as simplejwt's bearer token."""

    target_class = "api.authentication.JWTAuthentication"
