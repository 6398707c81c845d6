from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.support.common.admin import RecordAdmin

from .models import RefreshTokenRotation, User


class UserCreateForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "preferred_language")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "preferred_language", "groups")
    search_fields = ("email", "first_name", "last_name", "phone")
    readonly_fields = ("last_login", "date_joined", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Only a superuser can make a superuser or hand out permissions one by one; roles
        # (groups) are the way administrators grant access.
        fields = super().get_readonly_fields(request, obj)
        if not request.user.is_superuser:
            fields = (*fields, "is_superuser", "user_permissions")
        if obj is not None and obj.pk == request.user.pk:
            # Nobody widens their own access, superusers included: another person must.
            fields = (*fields, "groups", "is_superuser", "user_permissions", "is_staff")
        return tuple(dict.fromkeys(fields))

    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Personal info"),
            {"fields": ("first_name", "last_name", "phone", "preferred_language")},
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "first_name",
                    "last_name",
                    "preferred_language",
                    "password1",
                    "password2",
                ),
            },
        ),
    )


@admin.register(RefreshTokenRotation)
class RefreshTokenRotationAdmin(RecordAdmin):
    """Rotated refresh tokens (replaying one revokes every session of its user)."""

    list_display = ("token", "rotated_at")
    list_select_related = ("token__user",)
    search_fields = ("token__jti", "token__user__email")
    list_filter = ("rotated_at",)
