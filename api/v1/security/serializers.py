from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import InputSerializer, ModelSerializer
from api.v1.auth.serializers import RegisterSerializer
from apps.support.security.models import Language, User
from apps.support.security.roles import ROLE_DESCRIPTIONS, Role, role_names


class UserSerializer(ModelSerializer):
    """An account as its owner and administrators see it."""

    roles = serializers.SerializerMethodField(help_text="Staff roles; empty for visitors.")

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "first_name",
            "last_name",
            "phone",
            "preferred_language",
            "roles",
            "is_staff",
            "is_active",
            "date_joined",
            "last_login",
        )
        read_only_fields = ("id", "email", "is_staff", "is_active", "date_joined", "last_login")

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(Role.choices)))
    def get_roles(self, user: User) -> list[str]:
        return sorted(role_names(user))


class ProfileUpdateSerializer(InputSerializer):
    """What a user may change of their own account."""

    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    preferred_language = serializers.ChoiceField(Language.choices, required=False)


class UserCreateSerializer(RegisterSerializer):
    """An administrator opens an account: a visitor's fields, plus phone and roles."""

    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    roles = serializers.ListField(
        child=serializers.ChoiceField(Role.choices), required=False, default=list, max_length=10
    )


class UserUpdateSerializer(ProfileUpdateSerializer):
    is_active = serializers.BooleanField(required=False)
    roles = serializers.ListField(
        child=serializers.ChoiceField(Role.choices), required=False, max_length=10
    )


class RoleSerializer(serializers.ModelSerializer):
    description = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField(help_text="`app_label.codename` of each.")
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Group
        fields = ("id", "name", "description", "permissions", "member_count")

    def get_description(self, group: Group) -> str:
        return ROLE_DESCRIPTIONS.get(group.name, "")

    def get_permissions(self, group: Group) -> list[str]:
        return sorted(
            f"{permission.content_type.app_label}.{permission.codename}"
            for permission in group.permissions.all()
        )
