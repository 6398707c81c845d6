"""/api/v1/auth/: sign up, sign in (JWT), refresh, sign out, own profile, passwords."""

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import signed_in_user
from api.v1.security.serializers import ProfileUpdateSerializer, UserSerializer
from apps.support.security import services

from .serializers import (
    DetailSerializer,
    LoginSerializer,
    LogoutSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
)

TAGS = ["auth"]


def _valid(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_scope = "register"

    @extend_schema(
        tags=TAGS,
        operation_id="auth_register",
        request=RegisterSerializer,
        responses={201: UserSerializer},
    )
    def post(self, request: Request) -> Response:
        user = services.user_register(**_valid(RegisterSerializer, request))
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    """Sign in with email and password. Five failures for one email from one address lock that
    pair out for 15 minutes (429 with Retry-After)."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_scope = "login"

    @extend_schema(
        tags=TAGS,
        operation_id="auth_token_create",
        request=LoginSerializer,
        responses={200: TokenPairSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _valid(LoginSerializer, request)
        tokens = services.auth_login(
            request=request._request, email=data["email"], password=data["password"]
        )
        return Response(TokenPairSerializer(tokens).data)


class TokenRefreshView(APIView):
    """A new pair for a refresh token. Each refresh token works once: presenting it again
    revokes every session of the account."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_scope = "login"

    @extend_schema(
        tags=TAGS,
        operation_id="auth_token_refresh",
        request=RefreshSerializer,
        responses={200: TokenPairSerializer},
    )
    def post(self, request: Request) -> Response:
        tokens = services.token_refresh(refresh=_valid(RefreshSerializer, request)["refresh"])
        return Response(TokenPairSerializer(tokens).data)


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS, operation_id="auth_logout", request=LogoutSerializer, responses={204: None}
    )
    def post(self, request: Request) -> Response:
        services.auth_logout(user=signed_in_user(request), **_valid(LogoutSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user's own account. Roles, email and staff status are read-only here."""

    permission_classes = [IsAuthenticated]

    @extend_schema(tags=TAGS, operation_id="auth_me_retrieve", responses={200: UserSerializer})
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        tags=TAGS,
        operation_id="auth_me_partial_update",
        request=ProfileUpdateSerializer,
        responses={200: UserSerializer},
    )
    def patch(self, request: Request) -> Response:
        user = services.user_profile_update(
            user=signed_in_user(request), data=_valid(ProfileUpdateSerializer, request)
        )
        return Response(UserSerializer(user).data)


class PasswordChangeView(APIView):
    """Change the password; every other session ends, and this one gets new tokens."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="auth_password_change",
        request=PasswordChangeSerializer,
        responses={200: TokenPairSerializer},
    )
    def post(self, request: Request) -> Response:
        tokens = services.password_change(
            user=signed_in_user(request), **_valid(PasswordChangeSerializer, request)
        )
        return Response(TokenPairSerializer(tokens).data)


class PasswordResetView(APIView):
    """Ask for a reset link by email. The answer is the same whether or not the account
    exists."""

    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_scope = "password_reset"

    @extend_schema(
        tags=TAGS,
        operation_id="auth_password_reset",
        request=PasswordResetSerializer,
        responses={202: DetailSerializer},
    )
    def post(self, request: Request) -> Response:
        services.password_reset_request(email=_valid(PasswordResetSerializer, request)["email"])
        return Response(
            {"detail": "If an account uses this email, a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_scope = "password_reset"

    @extend_schema(
        tags=TAGS,
        operation_id="auth_password_reset_confirm",
        request=PasswordResetConfirmSerializer,
        responses={204: OpenApiResponse(description="Password set; sign in with it.")},
    )
    def post(self, request: Request) -> Response:
        services.password_reset_confirm(**_valid(PasswordResetConfirmSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)
