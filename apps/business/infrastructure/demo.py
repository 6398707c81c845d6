"""Demo data: the park's sections, habitats with target ranges, three weeks of water readings."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.support.common.demo import DemoContext, demo_step
from apps.support.security.models import User

from . import services
from .models import Habitat, Section, WaterReading

SECTIONS = [
    ("Arrecife del Pacífico", "Pacific Reef", True, 1),
    ("Manglar y Estuario", "Mangrove and Estuary", True, 2),
    ("Mar Abierto", "Open Sea", True, 3),
    ("Centro de Rescate", "Rescue Centre", False, 4),
]

# name, section, kind, water, litres, capacity, public
HABITATS = [
    ("Gran Tanque Arrecife", "Arrecife del Pacífico", "tank", "salt", 450_000, 120, True),
    ("Tanque de Caballitos de Mar", "Arrecife del Pacífico", "tank", "salt", 2_000, 30, True),
    ("Piscina de Tortugas", "Mar Abierto", "pool", "salt", 80_000, 8, True),
    ("Laguna de Rayas", "Mar Abierto", "lagoon", "salt", 120_000, 20, True),
    ("Manglar", "Manglar y Estuario", "lagoon", "brackish", 60_000, 40, True),
    ("Rehabilitación 1", "Centro de Rescate", "rehabilitation", "salt", 5_000, 2, False),
    ("Rehabilitación 2", "Centro de Rescate", "rehabilitation", "salt", 5_000, 2, False),
    ("Cuarentena A", "Centro de Rescate", "quarantine", "salt", 8_000, 4, False),
]

SALT_RANGES = {
    "temperature": ("24", "29"),
    "salinity": ("32", "36"),
    "ph": ("7.9", "8.4"),
    "dissolved_oxygen": ("5", "9"),
    "ammonia": ("0", "0.02"),
    "nitrite": ("0", "0.1"),
    "nitrate": ("0", "20"),
}
BRACKISH_RANGES = {**SALT_RANGES, "salinity": ("10", "25"), "ph": ("7.2", "8.2")}


@demo_step(order=20, name="infrastructure.sections_and_habitats")
def create_sections_and_habitats(context: DemoContext) -> None:
    for name_es, name_en, public, order in SECTIONS:
        Section.objects.update_or_create(
            name_es=name_es,
            defaults={"name_en": name_en, "is_public": public, "display_order": order},
        )
    for name, section, kind, water, litres, capacity, public in HABITATS:
        habitat, _ = Habitat.objects.update_or_create(
            name=name,
            defaults={
                "section": Section.objects.get(name_es=section),
                "kind": kind,
                "water_type": water,
                "volume_litres": litres,
                "capacity": capacity,
                "is_public": public,
            },
        )
        for parameter, (low, high) in (
            BRACKISH_RANGES if water == "brackish" else SALT_RANGES
        ).items():
            services.water_range_set(
                habitat=habitat, parameter=parameter, minimum=Decimal(low), maximum=Decimal(high)
            )


def _value(rng: random.Random, low: str, high: str, drift: float = 0.0) -> Decimal:
    lo, hi = float(low), float(high)
    middle, half = (lo + hi) / 2, (hi - lo) / 2
    return Decimal(f"{middle + half * (rng.uniform(-0.8, 0.8) + drift):.3f}").max(Decimal(0))


@demo_step(order=25, name="infrastructure.water_readings")
def record_water_readings(context: DemoContext) -> None:
    """Twice a day for three weeks; the turtle pool warms up in the last days (an open alert)."""
    aquarist = User.objects.get(email="aquarist@parquemarino.test")
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for habitat in Habitat.objects.exclude(water_type="none").order_by("name"):
        if WaterReading.objects.filter(habitat=habitat).exists():
            continue
        rng = random.Random(habitat.name)  # noqa: S311 - demo values, the same on every machine
        ranges = BRACKISH_RANGES if habitat.water_type == "brackish" else SALT_RANGES
        for step in range(42, 0, -1):
            taken_at = now - timedelta(hours=12 * step)
            warming = habitat.name == "Piscina de Tortugas" and step <= 3
            values = {
                "temperature": _value(rng, *ranges["temperature"], drift=1.4 if warming else 0),
                "salinity": _value(rng, *ranges["salinity"]),
                "ph": _value(rng, *ranges["ph"]),
                "dissolved_oxygen": _value(rng, *ranges["dissolved_oxygen"]),
            }
            if step % 4 == 0:  # nitrogen tests every other day
                values |= {
                    "ammonia": _value(rng, *ranges["ammonia"]),
                    "nitrite": _value(rng, *ranges["nitrite"]),
                    "nitrate": _value(rng, *ranges["nitrate"]),
                }
            services.water_reading_record(
                actor=aquarist, habitat=habitat, taken_at=taken_at, values=values
            )
