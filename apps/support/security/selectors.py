from django.contrib.auth.models import Group
from django.db.models import Count, Prefetch, Q, QuerySet

from .models import User
from .roles import Role


def user_list() -> QuerySet[User]:
    return User.objects.prefetch_related(
        Prefetch("groups", queryset=Group.objects.only("id", "name"))
    ).order_by("email")


def role_list() -> QuerySet[Group]:
    return (
        Group.objects.filter(name__in=Role.values)
        .annotate(member_count=Count("user", filter=Q(user__is_active=True)))
        .prefetch_related("permissions__content_type")
        .order_by("name")
    )
