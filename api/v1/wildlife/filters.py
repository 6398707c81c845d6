import django_filters

from apps.business.infrastructure.models import Habitat, Section
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
    habitat = django_filters.ModelChoiceFilter(
        field_name="current_habitat", queryset=Habitat.objects.all(), label="Current habitat"
    )
    section = django_filters.ModelChoiceFilter(
        field_name="current_habitat__section", queryset=Section.objects.all(), label="Section"
    )

    class Meta:
        model = Animal
        fields = ("species", "habitat", "section", "status", "origin", "sex")


class MedicalRecordFilter(django_filters.FilterSet):
    class Meta:
        model = MedicalRecord
        fields = ("animal", "kind")


def _public_species(request: object) -> object:
    return Species.objects.filter(is_public=True)


class PublicAnimalFilter(django_filters.FilterSet):
    """What visitors may filter on: nothing the public representation hides (origin, status
    dates), and only species they can see."""

    species = django_filters.ModelChoiceFilter(queryset=_public_species)
    habitat = django_filters.ModelChoiceFilter(
        field_name="current_habitat",
        queryset=Habitat.objects.filter(is_public=True, section__is_public=True),
    )
    section = django_filters.ModelChoiceFilter(
        field_name="current_habitat__section", queryset=Section.objects.filter(is_public=True)
    )

    class Meta:
        model = Animal
        fields = ("species", "habitat", "section", "sex")
