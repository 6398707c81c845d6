"""The baselines: the public species page (50, nested status and images), and the public
exhibitions list and item (pictures with their renditions, species cards, body blocks, gallery),
with raw SQL and json.dumps — no ORM, no serializers, no DRF. The same rows and the same JSON as
the API."""

import hashlib
import json
import re
from collections import defaultdict
from functools import cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.encoding import filepath_to_uri
from wagtail.images.models import Filter
from wagtail.rich_text import expand_db_html

SPECIES_SQL = """
SELECT s.id, s.common_name_es, s.common_name_en, s.scientific_name, s.taxon_class, s.taxon_order,
       s.family, s.aphia_id, c.code, c.name_es, c.name_en, c.rank, s.cites_appendix,
       s.description_es, s.description_en, s.diet, s.natural_habitat, s.typical_length_cm,
       s.typical_lifespan_years, s.is_public
FROM wildlife_species s JOIN wildlife_conservationstatus c ON c.id = s.conservation_status_id
WHERE s.is_public
ORDER BY s.common_name_es, s.id
LIMIT %s OFFSET %s
"""
IMAGES_SQL = """
SELECT id, species_id, image, width, height, alt_text_es, alt_text_en, credit, display_order
FROM wildlife_speciesimage WHERE species_id = ANY(%s) ORDER BY display_order, id
"""


def species_page(request: HttpRequest) -> HttpResponse:
    page, size = int(request.GET.get("page", 1)), int(request.GET.get("page_size", 50))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM wildlife_species WHERE is_public")
        count = cursor.fetchone()[0]
        cursor.execute(SPECIES_SQL, [size, (page - 1) * size])
        rows = cursor.fetchall()
        cursor.execute(IMAGES_SQL, [[row[0] for row in rows]])
        images = defaultdict(list)
        base = request.build_absolute_uri(settings.MEDIA_URL)
        for (
            image_id,
            species_id,
            path,
            width,
            height,
            alt_es,
            alt_en,
            credit,
            order,
        ) in cursor.fetchall():
            images[species_id].append(
                {
                    "id": image_id,
                    "url": base + path,
                    "width": width,
                    "height": height,
                    "alt_text_es": alt_es,
                    "alt_text_en": alt_en,
                    "credit": credit,
                    "display_order": order,
                }
            )
    results = [
        {
            "id": row[0],
            "common_name_es": row[1],
            "common_name_en": row[2],
            "scientific_name": row[3],
            "taxon_class": row[4],
            "taxon_order": row[5],
            "family": row[6],
            "aphia_id": row[7],
            "conservation_status": row[8],
            "conservation_status_detail": {
                "code": row[8],
                "name_es": row[9],
                "name_en": row[10],
                "rank": row[11],
            },
            "cites_appendix": row[12],
            "description_es": row[13],
            "description_en": row[14],
            "diet": row[15],
            "natural_habitat": row[16],
            "typical_length_cm": None if row[17] is None else str(row[17]),
            "typical_lifespan_years": row[18],
            "is_public": row[19],
            "images": images[row[0]],
        }
        for row in rows
    ]
    path = request.build_absolute_uri(request.path)
    more = page * size < count
    body = {
        "count": count,
        "next": f"{path}?page={page + 1}&page_size={size}" if more else None,
        "previous": None if page == 1 else f"{path}?page={page - 1}&page_size={size}",
        "results": results,
    }
    return HttpResponse(json.dumps(body), content_type="application/json")


# --- Exhibitions ------------------------------------------------------------------------
#
# Live now, as apps.business.exhibitions.selectors decides it: a live row not past its
# expire_at, without a revision whose scheduled time has come (the API shows such a revision's
# content instead; the benchmark has none, and checks that both answer alike).
LIVE = """
e.live AND (e.expire_at IS NULL OR e.expire_at > %(now)s)
AND NOT EXISTS (
    SELECT 1 FROM wagtailcore_revision r
    WHERE r.content_type_id = (
        SELECT id FROM django_content_type WHERE app_label = 'exhibitions' AND model = 'exhibition'
    )
    AND r.object_id = e.id::text AND r.approved_go_live_at <= %(now)s
)
"""
EXHIBITION_COLUMNS = """
e.id, e.slug, e.kind, e.title_es, e.title_en, e.summary_es, e.summary_en, e.opens_on,
e.closes_on, e.hero_image_id, s.id, s.name_es, s.name_en, h.id, h.name
"""
EXHIBITION_JOINS = """
FROM exhibitions_exhibition e
LEFT JOIN infrastructure_section s ON s.id = e.section_id
LEFT JOIN infrastructure_habitat h ON h.id = e.habitat_id
"""
EXHIBITIONS_SQL = f"""
SELECT {EXHIBITION_COLUMNS}, count(*) OVER ()
{EXHIBITION_JOINS}
WHERE {LIVE}
ORDER BY e.opens_on, e.slug
LIMIT %(size)s OFFSET %(offset)s
"""
EXHIBITION_SQL = f"""
SELECT {EXHIBITION_COLUMNS}, e.body_es, e.body_en
{EXHIBITION_JOINS}
WHERE e.slug = %(slug)s AND {LIVE}
"""
# Pictures with the renditions asked for (the one of the picture's focal point is picked).
PICTURES_SQL = """
SELECT i.id, i.width, i.height, i.alt_text_es, i.alt_text_en, i.credit, i.focal_point_x,
       i.focal_point_y, i.focal_point_width, i.focal_point_height,
       r.filter_spec, r.focal_point_key, r.file, r.width, r.height
FROM exhibitions_exhibitionimage i
LEFT JOIN exhibitions_exhibitionrendition r ON r.image_id = i.id AND r.filter_spec = ANY(%s)
WHERE i.id = ANY(%s)
"""
# The exhibitions' species, public ones, in the species' order.
SPECIES_CARDS_SQL = """
SELECT x.exhibition_id, p.id, p.common_name_es, p.common_name_en, p.scientific_name
FROM exhibitions_exhibition_species x JOIN wildlife_species p ON p.id = x.species_id
WHERE x.exhibition_id = ANY(%s) AND p.is_public
ORDER BY p.common_name_es
"""
# One exhibition's species and those its body's cards show (public ones).
ITEM_SPECIES_SQL = """
SELECT p.id, p.common_name_es, p.common_name_en, p.scientific_name,
       EXISTS (SELECT 1 FROM exhibitions_exhibition_species x
               WHERE x.exhibition_id = %(id)s AND x.species_id = p.id)
FROM wildlife_species p
WHERE p.is_public AND (p.id = ANY(%(cards)s) OR p.id IN (
    SELECT species_id FROM exhibitions_exhibition_species WHERE exhibition_id = %(id)s))
ORDER BY p.common_name_es
"""
GALLERY_SQL = """
SELECT image_id, caption_es, caption_en FROM exhibitions_exhibitiongalleryimage
WHERE exhibition_id = %s ORDER BY sort_order
"""
LIST_RENDITIONS = ("card",)
ITEM_RENDITIONS = ("card", "hero", "gallery")
_URL_SAFE = re.compile(r"[A-Za-z0-9/._-]+")


@cache
def _vary_fields(spec: str) -> tuple[str, ...]:
    """The picture's fields a rendition depends on (its focal point, for ``fill``)."""
    return tuple(
        field
        for operation in Filter(spec=spec).operations
        for field in getattr(operation, "vary_fields", ())
    )


def _focal_point_key(spec: str, focal: dict[str, Any]) -> str:
    """Wagtail's Filter.get_cache_key: which of a picture's renditions of ``spec`` is current."""
    vary = "-".join(str(focal[field]) for field in _vary_fields(spec))
    return hashlib.sha1(vary.encode()).hexdigest()[:8] if vary else ""


def _language(request: HttpRequest) -> str:
    language = request.GET.get("lang") or settings.LANGUAGE_CODE
    return language if language in ("es", "en") else settings.LANGUAGE_CODE


def _pictures(
    cursor: Any, ids: set[int], names: tuple[str, ...], language: str, base: str
) -> dict[int, dict[str, Any]]:
    specs = {settings.EXHIBITION_RENDITIONS[name]: name for name in names}
    cursor.execute(PICTURES_SQL, [list(specs), list(ids)])
    pictures: dict[int, dict[str, Any]] = {}
    made: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in cursor.fetchall():
        image_id = row[0]
        if image_id not in pictures:
            pictures[image_id] = {
                "id": image_id,
                "width": row[1],
                "height": row[2],
                "alt_text": (row[4] if language == "en" else "") or row[3],
                "credit": row[5],
            }
        spec = row[10]
        focal = {
            "focal_point_x": row[6],
            "focal_point_y": row[7],
            "focal_point_width": row[8],
            "focal_point_height": row[9],
        }
        if spec is not None and row[11] == _focal_point_key(spec, focal):
            name = row[12]
            made[image_id][specs[spec]] = {
                "url": base + (name if _URL_SAFE.fullmatch(name) else filepath_to_uri(name)),
                "width": row[13],
                "height": row[14],
            }
    for image_id, picture in pictures.items():
        # Every size was made before the run (the API makes a missing one on the spot).
        picture["renditions"] = {name: made[image_id][name] for name in names}
    return pictures


def _card(row: Any, language: str) -> dict[str, Any]:
    return {
        "id": row[0],
        "common_name": (row[2] if language == "en" else "") or row[1],
        "scientific_name": row[3],
    }


def _exhibition(
    row: Any,
    language: str,
    pictures: dict[int, dict[str, Any]],
    species: list[dict[str, Any]],
) -> dict[str, Any]:
    section = None
    if row[10] is not None:
        section = {"id": row[10], "name": (row[12] if language == "en" else "") or row[11]}
    return {
        "slug": row[1],
        "kind": row[2],
        "title": (row[4] if language == "en" else "") or row[3],
        "summary": (row[6] if language == "en" else "") or row[5],
        "opens_on": row[7].isoformat(),
        "closes_on": row[8].isoformat() if row[8] else None,
        "section": section,
        "habitat": None if row[13] is None else {"id": row[13], "name": row[14]},
        "hero_image": None if row[9] is None else pictures[row[9]],
        "species": species,
        "language": language,
    }


def exhibitions_page(request: HttpRequest) -> HttpResponse:
    page, size = int(request.GET.get("page", 1)), int(request.GET.get("page_size", 25))
    language = _language(request)
    base = request.build_absolute_uri(settings.MEDIA_URL)
    with connection.cursor() as cursor:
        cursor.execute(
            EXHIBITIONS_SQL, {"now": timezone.now(), "size": size, "offset": (page - 1) * size}
        )
        rows = cursor.fetchall()
        ids = [row[0] for row in rows]
        heroes = {row[9] for row in rows if row[9] is not None}
        pictures = _pictures(cursor, heroes, LIST_RENDITIONS, language, base)
        cursor.execute(SPECIES_CARDS_SQL, [ids])
        species = defaultdict(list)
        for card in cursor.fetchall():
            species[card[0]].append(_card(card[1:], language))
    count = rows[0][15] if rows else 0
    path = request.build_absolute_uri(request.path)
    more = page * size < count
    body = {
        "count": count,
        "next": f"{path}?page={page + 1}&page_size={size}" if more else None,
        "previous": None if page == 1 else f"{path}?page={page - 1}&page_size={size}",
        "results": [_exhibition(row, language, pictures, species[row[0]]) for row in rows],
    }
    return HttpResponse(json.dumps(body), content_type="application/json")


def _html(source: str) -> str:
    """Rich text as the API gives it: Wagtail rewrites only its own links and embeds."""
    return expand_db_html(source) if "linktype=" in source or "embedtype=" in source else source


def _value(item: Any) -> Any:
    """A list item as stored: ``{"type": "item", "value", "id"}`` (Wagtail 5+), or bare."""
    if isinstance(item, dict) and item.get("type") == "item" and "value" in item:
        return item["value"]
    return item


def exhibition_item(request: HttpRequest, slug: str) -> HttpResponse:
    language = _language(request)
    base = request.build_absolute_uri(settings.MEDIA_URL)
    with connection.cursor() as cursor:
        cursor.execute(EXHIBITION_SQL, {"now": timezone.now(), "slug": slug})
        row = cursor.fetchone()
        if row is None:
            raise Http404
        # Django has psycopg hand jsonb over as text (JSONField decodes it).
        body_es, body_en = json.loads(row[15]), json.loads(row[16])
        body = body_en if language == "en" and body_en else body_es
        cursor.execute(GALLERY_SQL, [row[0]])
        gallery = cursor.fetchall()
        images = {block["value"]["image"] for block in body if block["type"] == "image"}
        images |= {item[0] for item in gallery} | ({row[9]} if row[9] is not None else set())
        pictures = _pictures(cursor, images, ITEM_RENDITIONS, language, base)
        cards = [block["value"]["species"] for block in body if block["type"] == "species_card"]
        cursor.execute(ITEM_SPECIES_SQL, {"id": row[0], "cards": cards})
        species = cursor.fetchall()
    public = {card[0]: _card(card, language) for card in species}
    blocks = []
    for block in body:
        kind, value = block["type"], block["value"]
        if kind == "rich_text":
            shown: Any = {"html": _html(value)}
        elif kind == "fact_box":
            facts = [_value(fact) for fact in value["facts"]]
            shown = {
                "title": value["title"],
                "facts": [{"label": fact["label"], "value": fact["value"]} for fact in facts],
            }
        elif kind == "image":
            if value["image"] not in pictures:
                continue  # the picture was deleted since
            picture = {
                **pictures[value["image"]],
                "alt_text": value["alt_text"],
                "credit": value["credit"] or pictures[value["image"]]["credit"],
            }
            shown = {"image": picture, "caption": value["caption"]}
        elif kind == "species_card":
            if value["species"] not in public:
                continue  # hidden from the public, or gone
            shown = {"species": public[value["species"]], "note": value["note"]}
        else:
            shown = {"label": value["label"], "url": value["url"]}
        blocks.append({"type": kind, "id": block["id"], "value": shown})
    data = _exhibition(row, language, pictures, [public[card[0]] for card in species if card[4]])
    data["body"] = blocks
    data["gallery"] = [
        {
            "image": pictures[image_id],
            "caption": (caption_en if language == "en" else "") or caption_es,
        }
        for image_id, caption_es, caption_en in gallery
    ]
    return HttpResponse(json.dumps(data), content_type="application/json")
