from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.support.common.admin import RecordAdmin, RoleAccessMixin
from apps.support.common.request_context import request_var

from . import services
from .models import RefreshTokenRotation, User


class UserCreateForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "preferred_language")


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PasswordSetForm(AdminPasswordChangeForm):
    """The back office's password form, through the service: every session of the account
    ends, and the change is audited, as with a reset."""

    def save(self, commit: bool = True) -> User:
        usable = self.cleaned_data.get("set_usable_password", True)
        request = request_var.get()  # the back office's request (set by RequestIdMiddleware)
        services.password_set_by_administrator(
            actor=request.user,
            user=self.user,
            password=self.cleaned_data["password1"] if usable else None,
        )
        return self.user


@admin.register(User)
class UserAdmin(RoleAccessMixin, DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    change_password_form = PasswordSetForm
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined")
    list_filter = ("is_staff", "is_superuser", "is_active", "preferred_language", "groups")
    search_fields = ("email", "first_name", "last_name", "phone")
    readonly_fields = ("last_login", "date_joined", "updated_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A superuser's account (its password included) is changed by superusers only.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

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
