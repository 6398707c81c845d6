from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InfrastructureConfig(AppConfig):
    name = "apps.business.infrastructure"
    label = "infrastructure"
    verbose_name = _("Infrastructure")

    def ready(self) -> None:
        from apps.support.audit.registry import audit_register
        from apps.support.common import readcache

        from .models import Habitat, Section, WaterTargetRange

        audit_register(Section)
        audit_register(Habitat)
        audit_register(WaterTargetRange)
        readcache.watch(readcache.CATALOGUE, Section, Habitat, WaterTargetRange)
