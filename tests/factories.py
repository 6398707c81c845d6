import datetime

import factory

from apps.business.wildlife.models import ConservationStatus
from apps.support.security.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = "Ada"
    last_name = "Lovelace"
    password = factory.django.Password("a-long-enough-password")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "infrastructure.Section"

    name_es = factory.Sequence(lambda n: f"Sección {n}")
    name_en = factory.Sequence(lambda n: f"Section {n}")


class HabitatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "infrastructure.Habitat"

    name = factory.Sequence(lambda n: f"Tank {n}")
    section = factory.SubFactory(SectionFactory)
    kind = "tank"
    water_type = "salt"
    volume_litres = 50000
    capacity = 10


class SpeciesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "wildlife.Species"

    common_name_es = factory.Sequence(lambda n: f"Pez {n}")
    common_name_en = factory.Sequence(lambda n: f"Fish {n}")
    scientific_name = factory.Sequence(
        lambda n: f"Genus species{chr(97 + n % 26)}{chr(97 + n // 26 % 26)}"
    )
    taxon_class = "Actinopterygii"
    taxon_order = "Perciformes"
    family = "Pomacentridae"
    conservation_status = factory.LazyFunction(lambda: ConservationStatus.objects.get(code="LC"))


class AnimalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "wildlife.Animal"

    institutional_id = factory.Sequence(lambda n: f"PMP-2026-{n:04d}")
    house_name = factory.Sequence(lambda n: f"Animal {n}")
    species = factory.SubFactory(SpeciesFactory)
    origin = "born_here"
    status = "in_collection"
    status_date = datetime.date(2026, 1, 15)
    current_habitat = factory.SubFactory(HabitatFactory)
