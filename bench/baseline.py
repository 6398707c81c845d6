"""The baseline: the public species page (50, nested status and images) with raw SQL and
json.dumps — no ORM, no serializers, no DRF. The same rows and the same JSON as the API."""

import json
from collections import defaultdict

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse

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
