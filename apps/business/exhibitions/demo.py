"""Demo data of exhibitions: the reef and the turtles, published, and a temporary jellyfish
hall scheduled to open on the first day of next month, with a draft revision still pending
after the scheduled one. Written by the demo content editor through the services."""

import io
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from apps.business.infrastructure.models import Habitat, Section
from apps.business.wildlife.models import Species
from apps.support.common.demo import DemoContext, demo_step
from apps.support.security.models import User

from . import services
from .models import Exhibition, ExhibitionImage


def _picture(colours: tuple[str, str], name: str) -> SimpleUploadedFile:
    """A gradient picture made here (nothing is downloaded)."""
    picture = Image.new("RGB", (1600, 900), colours[0])
    draw = ImageDraw.Draw(picture)
    top, bottom = Image.new("RGB", (1, 1), colours[0]), Image.new("RGB", (1, 1), colours[1])
    start, end = top.getpixel((0, 0)), bottom.getpixel((0, 0))
    for row in range(900):
        share = row / 899
        draw.line(
            [(0, row), (1600, row)],
            fill=tuple(round(a + (b - a) * share) for a, b in zip(start, end, strict=True)),  # type: ignore[arg-type]
        )
    stream = io.BytesIO()
    picture.save(stream, "JPEG", quality=80)
    return SimpleUploadedFile(name, stream.getvalue(), content_type="image/jpeg")


def _image(editor: User, name: str, colours: tuple[str, str], alt_es: str, alt_en: str) -> Any:
    existing = ExhibitionImage.objects.filter(title=alt_es).first()
    if existing is not None:
        return existing
    return services.image_create(
        actor=editor,
        file=_picture(colours, f"{name}.jpg"),
        alt_text_es=alt_es,
        alt_text_en=alt_en,
        credit="Parque Marino",
    )


def _species(*scientific: str) -> list[Species]:
    return list(Species.objects.filter(scientific_name__in=scientific))


def _rich(html: str) -> dict[str, Any]:
    return {"type": "rich_text", "value": html}


def _card(species: Species, note: str) -> dict[str, Any]:
    return {"type": "species_card", "value": {"species": species.pk, "note": note}}


def _first_of_next_month(today: date) -> date:
    return (today.replace(day=1) + timedelta(days=32)).replace(day=1)


@demo_step(order=46, name="exhibitions.exhibitions", atomic=False)
def create_exhibitions(context: DemoContext) -> None:
    """Not atomic: pictures are stored before their rows are written (docs/adr/0032)."""
    if Exhibition.objects.exists():
        return
    editor = User.objects.get(email="editor@parquemarino.test")
    reef_picture = _image(
        editor,
        "arrecife",
        ("#0b6e99", "#02304a"),
        "Cardumen sobre el coral del Gran Tanque",
        "A school of fish over the Great Tank's coral",
    )
    turtle_picture = _image(
        editor,
        "tortugas",
        ("#2a9d8f", "#1d3557"),
        "Tortuga verde nadando en la piscina",
        "A green turtle swimming in the pool",
    )
    jelly_picture = _image(
        editor,
        "medusas",
        ("#5e2b97", "#0d0221"),
        "Medusas iluminadas en la oscuridad",
        "Jellyfish lit up in the dark",
    )
    reef_section = Section.objects.get(name_es="Arrecife del Pacífico")
    open_sea = Section.objects.get(name_es="Mar Abierto")
    reef_fish = _species("Holacanthus passer", "Johnrandallia nigrirostris", "Hippocampus ingens")
    turtles = _species("Chelonia mydas", "Lepidochelys olivacea", "Eretmochelys imbricata")
    today = timezone.localdate()

    reef = services.exhibition_create(
        actor=editor,
        data={
            "slug": "arrecife-del-pacifico",
            "kind": "permanent",
            "title_es": "Arrecife del Pacífico",
            "title_en": "Pacific Reef",
            "summary_es": "Un arrecife rocoso del Pacífico tropical, con sus peces de colores.",
            "summary_en": "A rocky reef of the tropical Pacific, with its colourful fish.",
            "hero_image": reef_picture,
            "section": reef_section,
            "habitat": Habitat.objects.get(name="Gran Tanque Arrecife"),
            "species": reef_fish,
            "opens_on": today - timedelta(days=900),
            "body_es": [
                _rich(
                    "<p>El <strong>Gran Tanque</strong> reproduce un arrecife rocoso del golfo: "
                    "450 000 litros de agua salada a 26 °C.</p>"
                ),
                {
                    "type": "fact_box",
                    "value": {
                        "title": "En cifras",
                        "facts": [
                            {"label": "Agua", "value": "450 000 litros"},
                            {"label": "Especies", "value": "Más de 40"},
                        ],
                    },
                },
                *[_card(species, "") for species in reef_fish[:2]],
                {
                    "type": "call_to_action",
                    "value": {"label": "Compra tu entrada", "url": "/entradas"},
                },
            ],
            "body_en": [
                _rich(
                    "<p>The <strong>Great Tank</strong> recreates a rocky reef of the gulf: "
                    "450,000 litres of salt water at 26 °C.</p>"
                ),
                {
                    "type": "call_to_action",
                    "value": {"label": "Buy your ticket", "url": "/entradas"},
                },
            ],
        },
    )
    services.exhibition_publish(actor=editor, exhibition=reef)

    turtle_hall = services.exhibition_create(
        actor=editor,
        data={
            "slug": "tortugas-rescate-y-liberacion",
            "kind": "permanent",
            "title_es": "Tortugas: rescate y liberación",
            "title_en": "Turtles: rescue and release",
            "summary_es": "Cómo el centro de rescate cuida tortugas heridas hasta liberarlas.",
            "summary_en": "How the rescue centre cares for hurt turtles until they are released.",
            "hero_image": turtle_picture,
            "section": open_sea,
            "habitat": Habitat.objects.get(name="Piscina de Tortugas"),
            "species": turtles,
            "opens_on": today - timedelta(days=400),
            "body_es": [
                _rich("<p>Cada temporada llegan tortugas heridas por redes y plásticos.</p>"),
                {
                    "type": "image",
                    "value": {
                        "image": turtle_picture.pk,
                        "alt_text": "Tortuga verde nadando en la piscina",
                        "credit": "Parque Marino",
                        "caption": "Una paciente a punto de volver al mar.",
                    },
                },
                *[_card(species, "") for species in turtles[:1]],
                {
                    "type": "call_to_action",
                    "value": {"label": "Dona al rescate", "url": "/donar/rescate-tortugas"},
                },
            ],
            "gallery": [{"image": turtle_picture, "caption_es": "En rehabilitación"}],
        },
    )
    services.exhibition_publish(actor=editor, exhibition=turtle_hall)

    opening = _first_of_next_month(today)
    jellyfish = services.exhibition_create(
        actor=editor,
        data={
            "slug": "sala-de-medusas",
            "kind": "temporary",
            "title_es": "Sala de medusas",
            "title_en": "Jellyfish hall",
            "summary_es": "Una sala temporal a oscuras donde las medusas brillan.",
            "summary_en": "A temporary dark hall where jellyfish glow.",
            "hero_image": jelly_picture,
            "section": reef_section,
            "opens_on": opening,
            "closes_on": opening + timedelta(days=120),
            "body_es": [_rich("<p>Medusas luna y ortigas de mar, en una sala a oscuras.</p>")],
        },
    )
    opens_at = timezone.make_aware(datetime.combine(opening, time(9, 0)))
    services.exhibition_publish(actor=editor, exhibition=jellyfish, at=opens_at)
    # Work goes on after the schedule: a draft the public will not see until published.
    services.exhibition_update(
        actor=editor,
        exhibition=jellyfish,
        data={"summary_es": "Una sala temporal a oscuras donde brillan medusas luna y ortigas."},
    )
