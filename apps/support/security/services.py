"""Accounts, authentication and roles. Every change is audited in its own transaction."""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate, password_validation, user_logged_in
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from apps.support.audit import services as audit
from apps.support.common.errors import (
    ConflictError,
    ForbiddenError,
    ServiceError,
    TooManyRequestsError,
    UnauthenticatedError,
)
from apps.support.common.services import model_update

from . import errors
from .models import RefreshTokenRotation, User
from .roles import Role
from .tasks import send_password_reset_email


class AuthenticationError(UnauthenticatedError):
    default_code = errors.INVALID_CREDENTIALS


class LockedOutError(TooManyRequestsError):
    """Too many failed logins for this email from this address (HTTP 429)."""

    default_code = errors.LOCKED_OUT


def _password_errors(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as error:
        raise DjangoValidationError({"password": error.messages}) from error


# --- Accounts ---------------------------------------------------------------------------


def user_register(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    preferred_language: str = "es",
) -> User:
    """A visitor signs up. Visitors get no role and no back-office access."""
    email = User.objects.normalize_email(email)
    user = User(
        email=email,
        first_name=first_name,
        last_name=last_name,
        preferred_language=preferred_language,
    )
    _password_errors(password, user)
    taken = ServiceError(
        _("An account with this email already exists."), code=errors.EMAIL_TAKEN, field="email"
    )
    if User.objects.filter(email__iexact=email).exists():
        raise taken
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()  # audited as security.user.created (the model is registered with audit)
    except IntegrityError as error:  # the same email registered a moment ago
        raise taken from error
    return user


PROFILE_FIELDS = ("first_name", "last_name", "phone", "preferred_language")


def user_profile_update(*, user: User, data: Mapping[str, Any]) -> User:
    """The user edits their own name, phone and language (never email, roles or staff).

    Audited field by field as ``security.user.updated``.
    """
    return model_update(instance=user, fields=PROFILE_FIELDS, data=data)[0]


# --- Tokens -----------------------------------------------------------------------------


def _token_pair(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _lock_sessions(user_id: int) -> None:
    """The user's row, locked until commit: refreshing, and revoking every session (sign-out
    everywhere, password change or reset, deactivation), take it first, so a refresh racing a
    revocation cannot leave a new token behind."""
    User.objects.select_for_update().filter(pk=user_id).first()


def _only_the_token() -> tuple[str, ...]:
    """``FOR UPDATE OF`` the token alone where the database has it; MariaDB has not, and there
    its user's row is locked too (already locked by ``_lock_sessions``)."""
    return ("self",) if connection.features.has_select_for_update_of else ()


def tokens_revoke_all(*, user: User) -> int:
    """Blacklist every refresh token of the user that is not yet blacklisted."""
    _lock_sessions(user.pk)
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    revoked = BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    return len(revoked)


def expired_tokens_flush() -> int:
    """Delete the refresh tokens (and their blacklist rows) past their expiry: they can no
    longer be used whatever their state. Returns how many tokens were deleted."""
    from rest_framework_simplejwt.utils import aware_utcnow

    deleted = OutstandingToken.objects.filter(expires_at__lte=aware_utcnow()).delete()[1]
    return deleted.get(OutstandingToken._meta.label, 0)


def auth_login(*, request: HttpRequest, email: str, password: str) -> dict[str, str]:
    """Email and password for a token pair.

    django-axes counts failures per (email, client IP) through Django's ``user_login_failed``
    signal; after ``AXES_FAILURE_LIMIT`` failures that pair is refused for ``AXES_COOLOFF_TIME``
    while other users on the same address can still sign in.
    """
    email = User.objects.normalize_email(email)
    user = authenticate(request, username=email, password=password)
    if getattr(request, "axes_locked_out", False):
        cool_off = settings.AXES_COOLOFF_TIME
        raise LockedOutError(
            _("Too many failed sign-in attempts. Try again later."),
            retry_after=int(cool_off.total_seconds()),
        )
    if user is None:
        raise AuthenticationError(_("Email or password is wrong."))
    # Resets the failure count (axes) and updates last_login.
    user_logged_in.send(sender=type(user), request=request, user=user)
    return _token_pair(user)


def token_refresh(*, refresh: str) -> dict[str, str]:
    """A new token pair for a refresh token, which is blacklisted (rotation).

    Presenting a refresh token that was already rotated means it leaked or was replayed: every
    refresh token of its user is revoked and the reuse is audited. A token that was merely
    revoked (sign-out, password change) is refused without more ado.
    """
    try:
        payload = token_backend.decode(refresh, verify=True)  # type: ignore[arg-type]  # str is right
    except (TokenError, TokenBackendError) as error:
        raise AuthenticationError(str(error), code=errors.INVALID_REFRESH_TOKEN) from error
    if payload.get(jwt_settings.TOKEN_TYPE_CLAIM) != "refresh":
        raise AuthenticationError(_("Token has wrong type."), code=errors.INVALID_REFRESH_TOKEN)
    with transaction.atomic():
        user_id = payload.get(jwt_settings.USER_ID_CLAIM)
        text = str(user_id)
        # A key's digits only (int() refuses thousands of them and takes Unicode digits).
        if (
            user_id is not None
            and text.isascii()
            and text.isdigit()
            and len(text) <= 19
            and int(text) < 2**63
        ):
            _lock_sessions(int(text))
        # One refresh at a time per token: two racing requests cannot both rotate it.
        outstanding = (
            OutstandingToken.objects.select_for_update(of=_only_the_token())
            .filter(jti=payload[jwt_settings.JTI_CLAIM])
            .select_related("user")
            .first()
        )
        if outstanding is None or outstanding.user is None:
            raise AuthenticationError(_("Token is not valid."), code=errors.INVALID_REFRESH_TOKEN)
        user = outstanding.user
        if RefreshTokenRotation.objects.filter(token=outstanding).exists():
            revoked = tokens_revoke_all(user=user)
            audit.record(
                action="security.refresh_token.reused",
                actor=user,
                target=user,
                metadata={"jti": payload[jwt_settings.JTI_CLAIM], "revoked": revoked},
            )
        elif not BlacklistedToken.objects.filter(token=outstanding).exists():
            if not user.is_active:
                raise AuthenticationError(
                    _("This account is inactive."), code=errors.INACTIVE_ACCOUNT
                )
            BlacklistedToken.objects.create(token=outstanding)
            RefreshTokenRotation.objects.create(token=outstanding)
            return _token_pair(user)
    raise AuthenticationError(_("Token is blacklisted."), code=errors.INVALID_REFRESH_TOKEN)


def auth_logout(*, user: User, refresh: str, everywhere: bool = False) -> None:
    """Blacklist the given refresh token (or, ``everywhere``, all of the user's)."""
    try:
        token = RefreshToken(refresh)  # type: ignore[arg-type]  # simplejwt accepts the string
    except TokenError as error:
        raise AuthenticationError(str(error), code=errors.INVALID_REFRESH_TOKEN) from error
    if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise ServiceError(
            _("This refresh token belongs to another account."),
            code=errors.TOKEN_NOT_YOURS,
            field="refresh",
        )
    with transaction.atomic():
        if everywhere:
            tokens_revoke_all(user=user)
        else:
            token.blacklist()
        audit.record(
            action="security.user.logged_out",
            actor=user,
            target=user,
            metadata={"everywhere": everywhere},
        )


# --- Passwords --------------------------------------------------------------------------


def password_change(*, user: User, old_password: str, new_password: str) -> dict[str, str]:
    """Change the password; every other session (refresh token) of the user ends."""
    if not user.check_password(old_password):
        raise ServiceError(
            _("The current password is wrong."), code=errors.WRONG_PASSWORD, field="old_password"
        )
    _password_errors(new_password, user)
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        revoked = tokens_revoke_all(user=user)
        audit.record(
            action="security.password.changed",
            actor=user,
            target=user,
            metadata={"sessions_ended": revoked},
        )
        return _token_pair(user)


def password_set_by_administrator(*, actor: User, user: User, password: str | None) -> None:
    """An administrator sets (or, with ``None``, disables) another account's password in the
    back office: as with a reset, every session of that account ends."""
    _superusers_by_superusers(actor=actor, user=user)
    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password", "updated_at"])
        revoked = tokens_revoke_all(user=user)
        audit.record(
            action="security.password.set_by_administrator",
            actor=actor,
            target=user,
            metadata={"sessions_ended": revoked, "usable": password is not None},
        )


def password_reset_request(*, email: str) -> None:
    """Email a single-use reset link if an active account has this email.

    The caller always gets the same answer, so the endpoint does not reveal who has an account.
    """
    email = User.objects.normalize_email(email)
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    with transaction.atomic():
        if user is None or not user.has_usable_password():
            audit.record(action="security.password.reset_requested", metadata={"known": False})
            return
        audit.record(
            action="security.password.reset_requested", target=user, metadata={"known": True}
        )
        user_id = user.pk
        transaction.on_commit(lambda: send_password_reset_email.delay(user_id))


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    """Set a new password with the emailed link; the link then stops working."""
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uid))), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise ServiceError(
            _("This reset link is invalid or was already used."), code=errors.INVALID_RESET_LINK
        )
    try:
        _password_errors(new_password, user)
    except DjangoValidationError as error:
        raise DjangoValidationError({"new_password": error.message_dict["password"]}) from error
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        revoked = tokens_revoke_all(user=user)
        audit.record(
            action="security.password.reset",
            actor=user,
            target=user,
            metadata={"sessions_ended": revoked},
        )


# --- Users and roles (administrators) ---------------------------------------------------


def _role_groups(roles: list[str]) -> list[Group]:
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise ServiceError(
            _("Unknown role: %(roles)s.") % {"roles": ", ".join(unknown)},
            code=errors.UNKNOWN_ROLE,
            field="roles",
        )
    return list(Group.objects.filter(name__in=roles))


def user_roles_set(*, actor: User, user: User, roles: list[str]) -> User:
    """Grant and revoke roles so that ``user`` holds exactly ``roles``.

    Nobody changes their own roles (their grants are audited like everyone's), and the
    last active administrator cannot lose the role: somebody must be able to manage users.
    """
    groups = _role_groups(roles)
    with transaction.atomic():
        administrators = Group.objects.select_for_update().get(name=Role.ADMINISTRATOR)
        current = set(user.groups.values_list("name", flat=True))
        wanted = {group.name for group in groups}
        if user.pk == actor.pk and wanted != current:
            raise ForbiddenError(
                _("Nobody grants or revokes their own roles; ask another administrator."),
                code=errors.OWN_ROLES,
                field="roles",
            )
        if (
            Role.ADMINISTRATOR in current - wanted
            and not administrators.user_set.filter(is_active=True).exclude(pk=user.pk).exists()
        ):
            raise ConflictError(
                _("The last active administrator cannot lose the administrator role."),
                code=errors.LAST_ADMINISTRATOR,
            )
        # Each grant and revocation is audited by the receiver of the groups relation, so the
        # back office's edits are recorded the same way.
        user.groups.set(groups)
        is_staff = bool(wanted) or user.is_superuser
        if user.is_staff != is_staff:
            user.is_staff = is_staff
            user.save(update_fields=["is_staff", "updated_at"])
        user._role_names = frozenset(wanted)  # type: ignore[attr-defined]
    return user


def user_create(
    *,
    actor: User,
    email: str,
    password: str,
    roles: list[str],
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    preferred_language: str = "es",
) -> User:
    """An administrator opens an account, usually for a member of staff."""
    with transaction.atomic():
        # Locks in one order everywhere: the administrator group, then the audit chain.
        Group.objects.select_for_update().filter(name=Role.ADMINISTRATOR).first()
        user = user_register(
            email=email,
            password=password,
            first_name=first_name,
            last_name=last_name,
            preferred_language=preferred_language,
        )
        if phone:
            user_profile_update(user=user, data={"phone": phone})
        return user_roles_set(actor=actor, user=user, roles=roles)


def _superusers_by_superusers(*, actor: User, user: User) -> None:
    if user.is_superuser and not actor.is_superuser:
        raise ForbiddenError(
            _("Only a superuser changes a superuser's account."), code=errors.SUPERUSER_ONLY
        )


def user_update(*, actor: User, user: User, data: Mapping[str, Any]) -> User:
    """An administrator edits an account: names, phone, language, ``is_active``, ``roles``;
    a superuser's account only another superuser."""
    _superusers_by_superusers(actor=actor, user=user)
    profile = {name: value for name, value in data.items() if name not in ("is_active", "roles")}
    with transaction.atomic():
        Group.objects.select_for_update().filter(name=Role.ADMINISTRATOR).first()
        if "is_active" in data and data["is_active"] != user.is_active:
            if not data["is_active"]:
                if user.pk == actor.pk:
                    raise ConflictError(
                        _("You cannot deactivate your own account."),
                        code=errors.CANNOT_DEACTIVATE_SELF,
                    )
                tokens_revoke_all(user=user)
            user.is_active = data["is_active"]
            user.save(update_fields=["is_active", "updated_at"])
        user_profile_update(user=user, data=profile)
        if "roles" in data:
            user_roles_set(actor=actor, user=user, roles=data["roles"])
    return user
