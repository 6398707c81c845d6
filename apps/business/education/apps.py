from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EducationConfig(AppConfig):
    name = "apps.business.education"
    label = "education"
    verbose_name = _("Education")

    def ready(self) -> None:
        from apps.business.payments.handlers import register_item_handler
        from apps.support.audit.registry import audit_register

        from .handlers import EnrollmentHandler
        from .models import Instructor, Program

        register_item_handler(EnrollmentHandler())
        # Catalogue rows. Sessions and enrollments are recorded by their services' own
        # entries, written after the session lock (lock order).
        audit_register(Program)
        audit_register(Instructor)
