from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WildlifeConfig(AppConfig):
    name = "apps.business.wildlife"
    label = "wildlife"
    verbose_name = _("Wildlife")

    def ready(self) -> None:
        from apps.support.audit.registry import audit_register
        from apps.support.common import readcache

        from .models import (
            Animal,
            ConservationStatus,
            MedicalRecord,
            Species,
            SpeciesImage,
            Weight,
        )

        audit_register(Species, exclude=("search_text",))
        audit_register(SpeciesImage)
        audit_register(Animal)
        audit_register(Weight)
        # The trail says a medical record was written or changed, and by whom; its clinical
        # content stays with the veterinarians.
        audit_register(MedicalRecord, exclude=("details", "medication", "summary"))
        # The public catalogue shows species with their pictures and status, and each
        # habitat's occupancy (its resident animals).
        readcache.watch(readcache.CATALOGUE, Species, SpeciesImage, ConservationStatus, Animal)
