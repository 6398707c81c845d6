from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WildlifeConfig(AppConfig):
    name = "apps.business.wildlife"
    label = "wildlife"
    verbose_name = _("Wildlife")
