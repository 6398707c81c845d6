from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "apps.support.security"
    label = "security"
    verbose_name = _("Security")

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from django.db.models.signals import m2m_changed

        from apps.support.audit.registry import audit_register

        from . import receivers
        from .models import User

        audit_register(User, exclude=("last_login",))
        user_logged_in.connect(receivers.login_succeeded, dispatch_uid="audit:login")
        user_login_failed.connect(receivers.login_failed, dispatch_uid="audit:login-failed")
        user_locked_out.connect(receivers.locked_out, dispatch_uid="audit:locked-out")
        m2m_changed.connect(
            receivers.roles_changed, sender=User.groups.through, dispatch_uid="audit:roles"
        )
