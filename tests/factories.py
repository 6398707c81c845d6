import datetime
from decimal import Decimal

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


class TicketTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "tickets.TicketType"

    code = factory.Sequence(lambda n: f"type-{n}")
    name_es = "Adulto nacional"
    name_en = "Adult (national)"
    price = Decimal("2900.00")
    currency = "CRC"


def _slot_start():
    from django.utils import timezone

    now = timezone.localtime()
    return now.replace(minute=0, second=0, microsecond=0)


class TimeSlotFactory(factory.django.DjangoModelFactory):
    """A slot of today that started on the hour and lasts two hours (open for sale now)."""

    class Meta:
        model = "tickets.TimeSlot"

    starts_at = factory.Sequence(lambda n: _slot_start() + datetime.timedelta(seconds=n))
    ends_at = factory.LazyAttribute(lambda slot: slot.starts_at + datetime.timedelta(hours=2))
    date = factory.LazyAttribute(lambda slot: slot.starts_at.date())
    capacity = 60


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "education.Program"

    slug = factory.Sequence(lambda n: f"program-{n}")
    title_es = factory.Sequence(lambda n: f"Taller {n}")
    title_en = factory.Sequence(lambda n: f"Workshop {n}")
    audience = "children"
    min_age = 6
    max_age = 14
    duration_minutes = 90
    price = Decimal("5000.00")
    min_participants = 1
    max_participants = 30
    is_public = True


def _session_start():
    start = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=7)
    return start.replace(minute=0, second=0, microsecond=0)


class SessionFactory(factory.django.DjangoModelFactory):
    """A session a week ahead in a habitat of its own, enrolment open until the day before."""

    class Meta:
        model = "education.Session"

    program = factory.SubFactory(ProgramFactory)
    starts_at = factory.LazyFunction(_session_start)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(minutes=90))
    habitat = factory.SubFactory(HabitatFactory)
    section = factory.LazyAttribute(lambda o: o.habitat.section)
    capacity = factory.LazyAttribute(lambda o: o.program.max_participants)
    enrollment_deadline = factory.LazyAttribute(lambda o: o.starts_at - datetime.timedelta(days=1))
