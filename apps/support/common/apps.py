from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CommonConfig(AppConfig):
    name = "apps.support.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        # Each app may register demo data steps in its own ``demo.py``.
        autodiscover_modules("demo")
