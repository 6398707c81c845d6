"""Security events recorded in the audit trail, whichever door they come through (API or back
office): sign-in success and failure, lockout, and roles granted or revoked."""

from typing import Any

from django.contrib.auth.models import Group

from apps.support.audit import services as audit

from .models import User


def login_succeeded(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    audit.record(action="security.login.succeeded", actor=user, target=user)


def login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # Django has already replaced the password with stars. What was typed as the email is
    # kept only when it is an account's email: people type passwords into the email box.
    email = User.objects.normalize_email(str(credentials.get("username", "")))
    known = User.objects.filter(email__iexact=email).first()
    audit.record(
        action="security.login.failed",
        target=known,
        metadata={"email": known.email if known else None},
    )


def locked_out(sender: Any, request: Any, username: str, ip_address: str, **kwargs: Any) -> None:
    email = User.objects.normalize_email(username or "")
    known = User.objects.filter(email__iexact=email).first()
    audit.record(
        action="security.login.locked_out",
        target=known,
        metadata={"email": known.email if known else None, "ip_address": ip_address},
    )


def roles_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """``user.groups`` changed (from a service or the back office): one entry per role."""
    if action == "pre_clear":
        pairs = (
            [(instance, group) for group in instance.groups.all()]
            if not reverse
            else [(user, instance) for user in instance.user_set.all()]
        )
        verb = "revoked"
    elif action in ("post_add", "post_remove") and pk_set:
        verb = "granted" if action == "post_add" else "revoked"
        if reverse:  # group.user_set.add(...)
            pairs = [(user, instance) for user in User.objects.filter(pk__in=pk_set)]
        else:
            pairs = [(instance, group) for group in Group.objects.filter(pk__in=pk_set)]
    else:
        return
    for user, group in pairs:
        audit.record(action=f"security.role.{verb}", target=user, metadata={"role": group.name})
        user.__dict__.pop("_role_names", None)
