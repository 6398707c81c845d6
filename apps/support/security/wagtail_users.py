"""Accounts and roles are never managed in the editors' screen (Wagtail, /cms/).

Wagtail's admin needs its users app (profiles, the editor's language), which also brings
screens to add users, edit their groups and assign roles in bulk. Here that would go around the
rules of the security services (nobody changes their own roles, only superusers touch a
superuser, every grant audited). So its user and group screens answer to nobody, superusers
included, and its bulk actions on users are refused: accounts and roles live in the back office
(/admin/) and the API only. Passwords and email addresses too (their services revoke tokens
and write the audit trail): /cms/account/ keeps the name, language and time zone only.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpResponseForbidden
from wagtail.permission_policies.base import BasePermissionPolicy
from wagtail.users.views.groups import GroupViewSet as WagtailGroupViewSet
from wagtail.users.views.users import UserViewSet as WagtailUserViewSet


class NobodyPolicy(BasePermissionPolicy):
    def user_has_permission(self, user: Any, action: str) -> bool:
        return False

    def user_has_any_permission(self, user: Any, actions: Any) -> bool:
        return False

    def users_with_any_permission(self, actions: Any) -> QuerySet[Any]:
        return get_user_model().objects.none()

    def users_with_permission(self, action: str) -> QuerySet[Any]:
        return get_user_model().objects.none()


class UserViewSet(WagtailUserViewSet):
    @property
    def permission_policy(self) -> BasePermissionPolicy:
        return NobodyPolicy(get_user_model())


class GroupViewSet(WagtailGroupViewSet):
    @property
    def permission_policy(self) -> BasePermissionPolicy:
        return NobodyPolicy(Group)


def refuse_bulk_actions_on_accounts(
    request: Any, action_type: str, objects: Any, action_class_instance: Any
) -> HttpResponseForbidden | None:
    """Wagtail's ``before_bulk_action`` hook: no bulk action on users or groups."""
    if any(model in (get_user_model(), Group) for model in action_class_instance.models):
        return HttpResponseForbidden()
    return None
