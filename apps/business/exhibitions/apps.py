from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExhibitionsConfig(AppConfig):
    name = "apps.business.exhibitions"
    label = "exhibitions"
    verbose_name = _("Exhibitions")

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (audit of the editors' screen)
