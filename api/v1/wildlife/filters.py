import django_filters

from apps.business.wildlife.models import Animal, MedicalRecord, Species


class SpeciesFilter(django_filters.FilterSet):
    conservation_status = django_filters.CharFilter(
        field_name="conservation_status__code", label="IUCN code"
    )

    class Meta:
        model = Species
        fields = (
            "conservation_status",
            "taxon_class",
            "taxon_order",
            "family",
            "cites_appendix",
            "is_public",
        )


class AnimalFilter(django_filters.FilterSet):
    habitat = django_filters.NumberFilter(field_name="current_habitat")
    section = django_filters.NumberFilter(field_name="current_habitat__section")

    class Meta:
        model = Animal
        fields = ("species", "habitat", "section", "status", "origin", "sex")


class MedicalRecordFilter(django_filters.FilterSet):
    class Meta:
        model = MedicalRecord
        fields = ("animal", "kind")
