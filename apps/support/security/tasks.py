"""Security emails. Tasks take ids, never secrets: a task's arguments end up in broker
messages and worker logs, so the reset token is made inside the task."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import User


@shared_task(name="security.send_password_reset_email", autoretry_for=(OSError,), max_retries=5)
def send_password_reset_email(user_id: int) -> int:
    """Email a single-use reset link; returns how many emails went out (0 or 1)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.has_usable_password():
        return 0
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = f"{settings.PASSWORD_RESET_URL}?uid={uid}&token={token}"
    with translation.override(user.preferred_language):
        subject = _("Reset your Parque Marino password")
        body = _(
            "Someone asked to reset the password of your Parque Marino account.\n\n"
            "To choose a new password, open this link (valid for %(hours)d hours, once):\n"
            "%(link)s\n\nIf it was not you, ignore this email: your password stays the same."
        ) % {"hours": settings.PASSWORD_RESET_TIMEOUT // 3600, "link": link}
    return send_mail(subject, body, None, [user.email])


@shared_task(name="security.flush_expired_tokens")
def flush_expired_tokens() -> int:
    """Daily: the refresh tokens past their expiry, deleted (``flushexpiredtokens``)."""
    from .services import expired_tokens_flush

    return expired_tokens_flush()
