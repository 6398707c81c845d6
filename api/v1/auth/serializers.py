from rest_framework import serializers

from api.serializers import InputSerializer
from apps.support.security.models import Language


class RegisterSerializer(InputSerializer):
    """Visitor self-signup. Roles, staff status and the like cannot be sent (unknown fields)."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    preferred_language = serializers.ChoiceField(Language.choices, required=False, default="es")


class LoginSerializer(InputSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Access token; send as `Authorization: Bearer …`.")
    refresh = serializers.CharField(help_text="Refresh token; single use (rotated).")


class RefreshSerializer(InputSerializer):
    refresh = serializers.CharField(max_length=2048)


class LogoutSerializer(InputSerializer):
    refresh = serializers.CharField(max_length=2048)
    everywhere = serializers.BooleanField(
        required=False, default=False, help_text="End every session of the account."
    )


class PasswordChangeSerializer(InputSerializer):
    old_password = serializers.CharField(write_only=True, max_length=128)
    new_password = serializers.CharField(write_only=True, max_length=128)


class PasswordResetSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmSerializer(InputSerializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(write_only=True, max_length=128)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
