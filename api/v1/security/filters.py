import django_filters

from apps.support.security.models import User
from apps.support.security.roles import Role


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(
        choices=Role.choices, field_name="groups__name", label="Holds this role"
    )
    is_staff = django_filters.BooleanFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = User
        fields = ("role", "is_staff", "is_active", "preferred_language")
