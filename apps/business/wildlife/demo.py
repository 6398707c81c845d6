"""Demo data: Eastern Tropical Pacific species with their IUCN categories, and animals with
their histories (a rescued olive ridley in rehabilitation, a released hawksbill)."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from apps.business.infrastructure.models import Habitat
from apps.support.common.demo import DemoContext, demo_step
from apps.support.security.models import User

from . import services
from .models import Animal, ConservationStatus, MedicalRecord, Species, Weight

# common es, common en, scientific, class, order, family, IUCN, CITES, AphiaID, length cm,
# lifespan, diet
SPECIES = [
    (
        "Tortuga verde",
        "Green turtle",
        "Chelonia mydas",
        "Reptilia",
        "Testudines",
        "Cheloniidae",
        "LC",
        "I",
        137206,
        "110",
        80,
        "Seagrass and algae",
    ),
    (
        "Tortuga lora",
        "Olive ridley turtle",
        "Lepidochelys olivacea",
        "Reptilia",
        "Testudines",
        "Cheloniidae",
        "VU",
        "I",
        None,
        "70",
        50,
        "Crustaceans, jellyfish, algae",
    ),
    (
        "Tortuga carey",
        "Hawksbill turtle",
        "Eretmochelys imbricata",
        "Reptilia",
        "Testudines",
        "Cheloniidae",
        "CR",
        "I",
        137207,
        "85",
        50,
        "Sponges",
    ),
    (
        "Tiburón ballena",
        "Whale shark",
        "Rhincodon typus",
        "Chondrichthyes",
        "Orectolobiformes",
        "Rhincodontidae",
        "EN",
        "II",
        105847,
        "1200",
        80,
        "Plankton, small fish",
    ),
    (
        "Tiburón gata",
        "Nurse shark",
        "Ginglymostoma cirratum",
        "Chondrichthyes",
        "Orectolobiformes",
        "Ginglymostomatidae",
        "VU",
        "",
        None,
        "250",
        25,
        "Fish, crustaceans, molluscs",
    ),
    (
        "Mantarraya gigante",
        "Giant manta ray",
        "Mobula birostris",
        "Chondrichthyes",
        "Myliobatiformes",
        "Mobulidae",
        "EN",
        "II",
        None,
        "450",
        40,
        "Zooplankton",
    ),
    (
        "Raya redonda",
        "Round stingray",
        "Urobatis halleri",
        "Chondrichthyes",
        "Myliobatiformes",
        "Urotrygonidae",
        "LC",
        "",
        None,
        "30",
        10,
        "Worms, crustaceans",
    ),
    (
        "Caballito de mar del Pacífico",
        "Pacific seahorse",
        "Hippocampus ingens",
        "Actinopterygii",
        "Syngnathiformes",
        "Syngnathidae",
        "VU",
        "II",
        None,
        "20",
        5,
        "Small crustaceans",
    ),
    (
        "Ángel rey",
        "King angelfish",
        "Holacanthus passer",
        "Actinopterygii",
        "Perciformes",
        "Pomacanthidae",
        "LC",
        "",
        None,
        "30",
        15,
        "Sponges, algae",
    ),
    (
        "Mariposa barbero",
        "Barberfish",
        "Johnrandallia nigrirostris",
        "Actinopterygii",
        "Perciformes",
        "Chaetodontidae",
        "LC",
        "",
        None,
        "20",
        8,
        "Parasites of other fish, algae",
    ),
    (
        "Cirujano cola amarilla",
        "Yellowtail surgeonfish",
        "Prionurus punctatus",
        "Actinopterygii",
        "Perciformes",
        "Acanthuridae",
        "LC",
        "",
        None,
        "60",
        20,
        "Algae",
    ),
    (
        "Pargo amarillo",
        "Yellow snapper",
        "Lutjanus argentiventris",
        "Actinopterygii",
        "Perciformes",
        "Lutjanidae",
        "LC",
        "",
        None,
        "70",
        20,
        "Fish and crustaceans",
    ),
    (
        "Morena verde panámica",
        "Panamic green moray",
        "Gymnothorax castaneus",
        "Actinopterygii",
        "Anguilliformes",
        "Muraenidae",
        "LC",
        "",
        None,
        "120",
        20,
        "Fish, octopus",
    ),
    (
        "Pez globo",
        "Guineafowl puffer",
        "Arothron meleagris",
        "Actinopterygii",
        "Tetraodontiformes",
        "Tetraodontidae",
        "LC",
        "",
        None,
        "50",
        10,
        "Corals, sponges",
    ),
    (
        "Sargento mayor del Pacífico",
        "Panamic sergeant major",
        "Abudefduf troschelii",
        "Actinopterygii",
        "Perciformes",
        "Pomacentridae",
        "LC",
        "",
        None,
        "23",
        7,
        "Plankton, algae",
    ),
]

# institutional id, house name, scientific name, sex, origin, habitat, hatch date
ANIMALS = [
    (
        "PMP-2019-0003",
        "Galápagos",
        "Chelonia mydas",
        "female",
        "rescued",
        "Piscina de Tortugas",
        None,
    ),
    (
        "PMP-2021-0007",
        "Coral",
        "Chelonia mydas",
        "male",
        "transferred_in",
        "Piscina de Tortugas",
        date(2015, 6, 1),
    ),
    (
        "PMP-2022-0011",
        "Nodriza",
        "Ginglymostoma cirratum",
        "female",
        "transferred_in",
        "Gran Tanque Arrecife",
        date(2012, 3, 1),
    ),
    (
        "PMP-2022-0012",
        "Bruno",
        "Ginglymostoma cirratum",
        "male",
        "confiscated",
        "Gran Tanque Arrecife",
        None,
    ),
    (
        "PMP-2023-0020",
        "Luna",
        "Urobatis halleri",
        "female",
        "born_here",
        "Laguna de Rayas",
        date(2023, 2, 14),
    ),
    (
        "PMP-2023-0021",
        "Sol",
        "Urobatis halleri",
        "male",
        "born_here",
        "Laguna de Rayas",
        date(2023, 2, 14),
    ),
    (
        "PMP-2024-0030",
        "Ingens",
        "Hippocampus ingens",
        "male",
        "born_here",
        "Tanque de Caballitos de Mar",
        date(2024, 8, 2),
    ),
    (
        "PMP-2024-0031",
        "Perla",
        "Hippocampus ingens",
        "female",
        "born_here",
        "Tanque de Caballitos de Mar",
        date(2024, 8, 2),
    ),
    (
        "PMP-2020-0040",
        "Rey",
        "Holacanthus passer",
        "unknown",
        "transferred_in",
        "Gran Tanque Arrecife",
        None,
    ),
    (
        "PMP-2020-0041",
        "Barbero",
        "Johnrandallia nigrirostris",
        "unknown",
        "transferred_in",
        "Gran Tanque Arrecife",
        None,
    ),
    (
        "PMP-2021-0050",
        "Verde",
        "Gymnothorax castaneus",
        "unknown",
        "rescued",
        "Gran Tanque Arrecife",
        None,
    ),
    (
        "PMP-2022-0060",
        "Globo",
        "Arothron meleagris",
        "unknown",
        "transferred_in",
        "Gran Tanque Arrecife",
        None,
    ),
    (
        "PMP-2023-0070",
        "Sargento",
        "Abudefduf troschelii",
        "unknown",
        "born_here",
        "Manglar",
        date(2023, 5, 20),
    ),
]


@demo_step(order=30, name="wildlife.species")
def create_species(context: DemoContext) -> None:
    statuses = {status.code: status for status in ConservationStatus.objects.all()}
    for es, en, scientific, cls, order, family, iucn, cites, aphia, length, life, diet in SPECIES:
        Species.objects.update_or_create(
            scientific_name=scientific,
            defaults={
                "common_name_es": es,
                "common_name_en": en,
                "taxon_class": cls,
                "taxon_order": order,
                "family": family,
                "conservation_status": statuses[iucn],
                "cites_appendix": cites,
                "aphia_id": aphia,
                "typical_length_cm": Decimal(length),
                "typical_lifespan_years": life,
                "diet": diet,
                "natural_habitat": "Pacífico Oriental Tropical",
                "is_public": True,
            },
        )


def _at(days_ago: int) -> datetime:
    return timezone.now() - timedelta(days=days_ago)


@demo_step(order=35, name="wildlife.animals")
def create_animals(context: DemoContext) -> None:
    curator = User.objects.get(email="curator@parquemarino.test")
    vet = User.objects.get(email="vet@parquemarino.test")
    for institutional_id, name, scientific, sex, origin, habitat, hatched in ANIMALS:
        if Animal.objects.filter(institutional_id=institutional_id).exists():
            continue
        animal = services.animal_register(
            actor=curator,
            habitat=Habitat.objects.get(name=habitat),
            arrived_at=_at(400),
            data={
                "institutional_id": institutional_id,
                "house_name": name,
                "species": Species.objects.get(scientific_name=scientific),
                "sex": sex,
                "origin": origin,
                "hatch_date": hatched,
            },
        )
        if scientific == "Chelonia mydas":
            for days, kilos in ((300, "61.2"), (150, "63.8"), (20, "65.1")):
                services.weight_record(
                    actor=curator, animal=animal, weight_kg=Decimal(kilos), weighed_at=_at(days)
                )

    if not Animal.objects.filter(institutional_id="PMP-2026-0012").exists():
        # An olive ridley rescued from a ghost net, now in rehabilitation.
        marea = services.animal_register(
            actor=curator,
            habitat=Habitat.objects.get(name="Cuarentena A"),
            arrived_at=_at(25),
            reason="Rescatada enredada en una red fantasma frente a Ostional",
            data={
                "institutional_id": "PMP-2026-0012",
                "house_name": "Marea",
                "transponder_id": "985141000123456",
                "species": Species.objects.get(scientific_name="Lepidochelys olivacea"),
                "sex": "female",
                "origin": "rescued",
                "hatch_date_estimated": True,
            },
        )
        services.animal_move(
            actor=curator,
            animal=marea,
            habitat=Habitat.objects.get(name="Rehabilitación 1"),
            reason="Inicio de rehabilitación",
            moved_at=_at(20),
        )
        for days, kilos in ((25, "31.5"), (14, "32.4"), (3, "33.3")):
            services.weight_record(
                actor=curator, animal=marea, weight_kg=Decimal(kilos), weighed_at=_at(days)
            )
        services.medical_record_create(
            actor=vet,
            animal=marea,
            data={
                "kind": "exam",
                "performed_on": timezone.localdate(_at(25)),
                "summary": "Examen de ingreso: heridas en aleta delantera izquierda",
            },
        )
        services.medical_record_create(
            actor=vet,
            animal=marea,
            data={
                "kind": "treatment",
                "performed_on": timezone.localdate(_at(24)),
                "summary": "Limpieza de heridas y antibiótico",
                "medication": "Enrofloxacina 5 mg/kg cada 48 h",
            },
        )

    if not Animal.objects.filter(institutional_id="PMP-2025-0090").exists():
        # A hawksbill rescued last year and returned to the sea.
        brisa = services.animal_register(
            actor=curator,
            habitat=Habitat.objects.get(name="Rehabilitación 2"),
            arrived_at=_at(200),
            reason="Rescatada con fractura de caparazón, Bahía Ballena",
            data={
                "institutional_id": "PMP-2025-0090",
                "house_name": "Brisa",
                "species": Species.objects.get(scientific_name="Eretmochelys imbricata"),
                "sex": "female",
                "origin": "rescued",
            },
        )
        services.weight_record(
            actor=curator, animal=brisa, weight_kg=Decimal("24.8"), weighed_at=_at(190)
        )
        services.animal_release(
            actor=curator,
            animal=brisa,
            released_on=timezone.localdate(_at(60)),
            place="Parque Nacional Marino Ballena, Puntarenas",
        )
    context.objects["wildlife.medical_records"] = MedicalRecord.objects.count()
    context.objects["wildlife.weights"] = Weight.objects.count()
