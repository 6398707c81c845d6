from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "apps.business.documents"
    label = "documents"
    verbose_name = _("Documents")

    def ready(self) -> None:
        # Tags are free words; documents, versions, folders and links write their own
        # audit entries in their services (with the version, the links and the roles).
        from apps.support.audit.registry import audit_register

        from .models import Tag

        audit_register(Tag)
