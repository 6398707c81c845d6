"""Reads of the exhibitions module.

What the public sees is decided at the time of each request, from the rows and the
revisions whether or not the scheduling job has run (docs/adr/0032):

- a revision whose scheduled time has come (``approved_go_live_at`` ≤ now) is what is live for
  its exhibition, unless its own ``expire_at`` has passed;
- otherwise a live row is live until its ``expire_at``;
- anything else (drafts, revisions scheduled for later, expired or unpublished rows) is not.

The job (``tasks.publish_scheduled``) only catches the rows up with that answer.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import QuerySet
from wagtail.images.models import Filter
from wagtail.models import Revision

from apps.business.infrastructure.models import Habitat, Section
from apps.business.wildlife.models import Species

from .models import (
    Exhibition,
    ExhibitionGalleryImage,
    ExhibitionImage,
    ExhibitionRendition,
    PreviewLink,
)


@dataclass(frozen=True)
class ExhibitionFilter:
    """What the visitor app asks for: open on a day, showing a species, in a section or
    habitat, of a kind."""

    open_on: date | None = None
    species: int | None = None
    section: int | None = None
    habitat: int | None = None
    kind: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The filter as SQL conditions on an exhibition ``e`` (its habitat joined as ``h``)
        and their parameters; the same test as ``matches``."""
        conditions: list[str] = []
        params: list[Any] = []
        if self.open_on is not None:
            day = connection.ops.adapt_datefield_value(self.open_on)
            conditions.append("e.opens_on <= %s AND (e.closes_on IS NULL OR e.closes_on >= %s)")
            params += [day, day]
        if self.species is not None:
            conditions.append(
                f"EXISTS (SELECT 1 FROM {SPECIES_LINKS} x"
                " WHERE x.exhibition_id = e.id AND x.species_id = %s)"
            )
            params.append(self.species)
        if self.section is not None:
            conditions.append("(e.section_id = %s OR h.section_id = %s)")
            params += [self.section, self.section]
        if self.habitat is not None:
            conditions.append("e.habitat_id = %s")
            params.append(self.habitat)
        if self.kind is not None:
            conditions.append("e.kind = %s")
            params.append(self.kind)
        return "".join(f" AND {condition}" for condition in conditions), params

    def matches(self, exhibition: Exhibition) -> bool:
        """The same test as ``where()``, for an exhibition rebuilt from a revision (not a
        row)."""
        if self.open_on is not None and not (
            exhibition.opens_on <= self.open_on
            and (exhibition.closes_on is None or exhibition.closes_on >= self.open_on)
        ):
            return False
        if self.species is not None and self.species not in {
            species.pk for species in exhibition.species.all()
        }:
            return False
        if self.section is not None and not (
            exhibition.section_id == self.section
            or (exhibition.habitat is not None and exhibition.habitat.section_id == self.section)
        ):
            return False
        if self.habitat is not None and exhibition.habitat_id != self.habitat:
            return False
        return self.kind is None or exhibition.kind == self.kind


def _content_type() -> ContentType:
    return ContentType.objects.get_for_model(Exhibition)


def due_revisions(now: datetime) -> list[Revision]:
    """Revisions approved to go live at or before ``now`` that the job has not published."""
    return list(
        Revision.objects.filter(
            content_type=_content_type(), approved_go_live_at__lte=now
        ).order_by("approved_go_live_at", "pk")
    )


def _unexpired(exhibition: Exhibition, now: datetime) -> bool:
    return exhibition.expire_at is None or exhibition.expire_at > now


# --- The public read path -----------------------------------------------------------------
#
# The most read pages of the website and the in-park screens: plain rows in SQL written by
# hand, one query per kind of related thing for a whole page, no model instances and no query
# built by the ORM at each request (docs/adr/0034). Plain SQL that SQLite, PostgreSQL and
# MariaDB/MySQL all run: %s parameters adapted by the backend, booleans tested bare,
# ``IN (...)`` lists written out, a window count. What the rows hold is what ``row_of``
# gives for an exhibition rebuilt from a revision.
EXHIBITIONS = Exhibition._meta.db_table
SPECIES_LINKS = Exhibition.species.through._meta.db_table
SPECIES = Species._meta.db_table
ROW_FIELDS = (
    "id",
    "slug",
    "kind",
    "title_es",
    "title_en",
    "summary_es",
    "summary_en",
    "opens_on",
    "closes_on",
    "section__name_es",
    "section__name_en",
    "section_id",
    "habitat__name",
    "habitat_id",
    "hero_image_id",
)
BODY_FIELDS = ("body_es", "body_en")
ROW_COLUMNS = """e.id, e.slug, e.kind, e.title_es, e.title_en, e.summary_es, e.summary_en,
e.opens_on, e.closes_on, s.name_es, s.name_en, e.section_id, h.name, e.habitat_id,
e.hero_image_id"""
# Whether any revision has come due (the answer must then be rebuilt from it), asked in the
# same query as the rows.
ANYTHING_DUE = f"""EXISTS (SELECT 1 FROM {Revision._meta.db_table} r
    WHERE r.content_type_id = %s AND r.approved_go_live_at <= %s)"""
LIVE_ROWS = f"""FROM {EXHIBITIONS} e
LEFT JOIN {Section._meta.db_table} s ON s.id = e.section_id
LEFT JOIN {Habitat._meta.db_table} h ON h.id = e.habitat_id
WHERE e.live AND (e.expire_at IS NULL OR e.expire_at > %s)"""


def _in(values: Iterable[Any]) -> tuple[str, list[Any]]:
    """``IN (%s, …)`` for ``values`` (at least one) and its parameters."""
    values = list(values)
    return f"IN ({', '.join(['%s'] * len(values))})", values


def _day(value: Any) -> date | None:
    """A date column as a date (SQLite may hand over text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _row(values: Iterable[Any], *, detail: bool) -> dict[str, Any]:
    row = dict(zip(ROW_FIELDS + (BODY_FIELDS if detail else ()), values, strict=False))
    row["opens_on"], row["closes_on"] = _day(row["opens_on"]), _day(row["closes_on"])
    for field in BODY_FIELDS if detail else ():
        if isinstance(row[field], (str, bytes)):  # JSON comes as text from every backend
            row[field] = json.loads(row[field])
    return row


def _read_rows(
    now: datetime,
    exhibition_filter: ExhibitionFilter,
    *,
    start: int = 0,
    size: int | None = None,
    leave_out: Iterable[int] = (),
) -> tuple[list[dict[str, Any]], int, bool]:
    """Rows live at ``now`` as the rows say, from ``start`` (``size`` of them, or all), how
    many there are in all and whether a revision has come due (when any row was read)."""
    moment = connection.ops.adapt_datetimefield_value(now)
    where, params = exhibition_filter.where()
    leave_out = list(leave_out)
    if leave_out:
        excluded, ids = _in(leave_out)
        where, params = f"{where} AND e.id NOT {excluded}", [*params, *ids]
    page = "" if size is None else " LIMIT %s OFFSET %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {ROW_COLUMNS}, COUNT(*) OVER (), {ANYTHING_DUE} {LIVE_ROWS}{where}"
            f" ORDER BY e.opens_on, e.slug{page}",
            [
                _content_type().pk,
                moment,
                moment,
                *params,
                *(() if size is None else (size, start)),
            ],
        )
        found = cursor.fetchall()
    if not found:
        return [], 0, False
    return [_row(values, detail=False) for values in found], found[0][-2], bool(found[0][-1])


def live_rows(
    now: datetime,
    exhibition_filter: ExhibitionFilter | None = None,
    *,
    start: int = 0,
    size: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """What is published at ``now``, in the list's order, as plain rows: ``size`` of them
    from ``start`` (or all), and how many there are in all.

    Usually one query: the page, its count (a window count) and whether a scheduled revision
    has come due since the job last ran. When one has (or the page is empty, which leaves that
    unknown), the revisions come due are read, rebuilt and put in their place."""
    exhibition_filter = exhibition_filter or ExhibitionFilter()
    rows, count, anything_due = _read_rows(now, exhibition_filter, start=start, size=size)
    if rows and not anything_due:
        return rows, count
    due = due_revisions(now)
    if not due and size is None:
        return rows, count
    rows, count, _anything_due = _read_rows(
        now, exhibition_filter, leave_out={int(revision.object_id) for revision in due}
    )
    for revision in due:
        exhibition = revision.as_object()
        if _unexpired(exhibition, now) and exhibition_filter.matches(exhibition):
            rows.append(row_of(exhibition, detail=False))
    rows.sort(key=lambda row: (row["opens_on"], row["slug"]))
    return rows[start : None if size is None else start + size], len(rows)


def live_row(slug: str, now: datetime) -> dict[str, Any] | None:
    """The exhibition published at ``now`` under ``slug``, as a plain row with its body, or
    ``None``: usually one query; a revision come due since the job last ran is rebuilt."""
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {ROW_COLUMNS}, e.body_es, e.body_en, {ANYTHING_DUE} {LIVE_ROWS}"
            " AND e.slug = %s",
            [_content_type().pk, moment, moment, slug],
        )
        found = cursor.fetchone()
    row = None if found is None else _row(found[:-1], detail=True)
    if found is not None and not found[-1]:
        return row
    for revision in due_revisions(now):
        exhibition = revision.as_object()
        if exhibition.slug == slug:
            return row_of(exhibition, detail=True) if _unexpired(exhibition, now) else None
        if row is not None and exhibition.pk == row["id"]:
            return None  # its slug changes at this publication
    return row


# What a picture gives (with what Wagtail reads to find, or make, its renditions).
PICTURE_FIELDS = (
    "id",
    "file",
    "width",
    "height",
    "focal_point_x",
    "focal_point_y",
    "focal_point_width",
    "focal_point_height",
    "alt_text_es",
    "alt_text_en",
    "credit",
)


def row_of(exhibition: Exhibition, *, detail: bool) -> dict[str, Any]:
    """The same row for an exhibition rebuilt from a revision (or any instance), with its
    species and gallery, which a revision carries itself."""
    section, habitat = exhibition.section, exhibition.habitat
    row: dict[str, Any] = {
        "id": exhibition.pk,
        "slug": exhibition.slug,
        "kind": exhibition.kind,
        "title_es": exhibition.title_es,
        "title_en": exhibition.title_en,
        "summary_es": exhibition.summary_es,
        "summary_en": exhibition.summary_en,
        "opens_on": exhibition.opens_on,
        "closes_on": exhibition.closes_on,
        "section__name_es": section.name_es if section else None,
        "section__name_en": section.name_en if section else None,
        "section_id": exhibition.section_id,
        "habitat__name": habitat.name if habitat else None,
        "habitat_id": exhibition.habitat_id,
        "hero_image_id": exhibition.hero_image_id,
        "species_ids": [species.pk for species in exhibition.species.all()],
    }
    if detail:
        row["body_es"], row["body_en"] = exhibition.body_es, exhibition.body_en
        row["gallery"] = [
            (item.image_id, item.caption_es, item.caption_en) for item in exhibition.gallery.all()
        ]
    return row


def species_of(
    exhibition_ids: Iterable[int],
) -> tuple[dict[int, list[int]], dict[int, tuple[str, str, str]]]:
    """The public species of each exhibition row, in the catalogue's order, and their names
    (Spanish, English, scientific), in one query."""
    found: dict[int, list[int]] = {}
    names: dict[int, tuple[str, str, str]] = {}
    among, params = _in(exhibition_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x.exhibition_id, p.id, p.common_name_es, p.common_name_en, p.scientific_name"
            f" FROM {SPECIES_LINKS} x JOIN {SPECIES} p ON p.id = x.species_id"
            f" WHERE x.exhibition_id {among} AND p.is_public ORDER BY p.common_name_es, p.id",
            params,
        )
        for exhibition_id, species_id, *species_names in cursor.fetchall():
            found.setdefault(exhibition_id, []).append(species_id)
            names[species_id] = tuple(species_names)
    return found, names


def species_cards(species_ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
    """Names of the public species among ``species_ids``: (Spanish, English, scientific)."""
    return {
        row[0]: row[1:]
        for row in Species.objects.filter(pk__in=set(species_ids), is_public=True).values_list(
            "id", "common_name_es", "common_name_en", "scientific_name"
        )
    }


def item_species(
    exhibition_id: int, also: Iterable[int]
) -> tuple[list[int], dict[int, tuple[str, str, str]]]:
    """One exhibition's public species, in the catalogue's order, and the names of those and
    of the public species among ``also`` (its body's species cards), in one query."""
    also = set(also)
    cards, params = _in(also) if also else ("", [])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, p.common_name_es, p.common_name_en, p.scientific_name, EXISTS ("
            f"SELECT 1 FROM {SPECIES_LINKS} x WHERE x.exhibition_id = %s AND x.species_id = p.id)"
            f" FROM {SPECIES} p WHERE p.is_public AND ({f'p.id {cards} OR ' if also else ''}"
            f"p.id IN (SELECT x.species_id FROM {SPECIES_LINKS} x WHERE x.exhibition_id = %s))"
            " ORDER BY p.common_name_es, p.id",
            [exhibition_id, *params, exhibition_id],
        )
        found = cursor.fetchall()
    species, names = [], {}
    for species_id, spanish, english, scientific, linked in found:
        names[species_id] = (spanish, english, scientific)
        if linked:
            species.append(species_id)
    return species, names


def galleries(exhibition_ids: Iterable[int]) -> dict[int, list[tuple[int, str, str]]]:
    """Each exhibition's gallery in its order: (picture, caption in Spanish, in English)."""
    found: dict[int, list[tuple[int, str, str]]] = {}
    among, params = _in(exhibition_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT exhibition_id, image_id, caption_es, caption_en"
            f" FROM {ExhibitionGalleryImage._meta.db_table} WHERE exhibition_id {among}"
            " ORDER BY sort_order, id",
            params,
        )
        for exhibition_id, *item in cursor.fetchall():
            found.setdefault(exhibition_id, []).append(tuple(item))
    return found


RENDITION_FIELDS = ("filter_spec", "focal_point_key", "file", "width", "height")


def pictures(
    image_ids: Iterable[int], specs: Iterable[str]
) -> tuple[dict[int, dict[str, Any]], dict[tuple[int, str], tuple[str, int, int]]]:
    """The pictures of ``image_ids`` (at least one) and (file name, width, height) of each in
    each size of ``specs``, in one query (the renditions joined).

    Renditions are looked up as Wagtail does (filter spec and focal point key); a size not
    made yet is made now, by Wagtail, and kept in the storage backend (a read, outside any
    transaction)."""
    specs = list(specs)
    among, params = _in(set(image_ids))
    sizes, size_params = _in(specs) if specs else ("IS NULL", [])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(f'i.{name}' for name in PICTURE_FIELDS)},"
            f" {', '.join(f'r.{name}' for name in RENDITION_FIELDS)}"
            f" FROM {ExhibitionImage._meta.db_table} i"
            f" LEFT JOIN {ExhibitionRendition._meta.db_table} r"
            f" ON r.image_id = i.id AND r.filter_spec {sizes} WHERE i.id {among}",
            [*size_params, *params],
        )
        rows = cursor.fetchall()
    found: dict[int, dict[str, Any]] = {}
    stored: dict[tuple[int, str, str], tuple[str, int, int]] = {}
    width = len(PICTURE_FIELDS)
    for row in rows:
        picture = found.setdefault(row[0], dict(zip(PICTURE_FIELDS, row[:width], strict=True)))
        spec, key, name, rendition_width, rendition_height = row[width:]
        if spec is not None:
            stored[(picture["id"], spec, key)] = (name, rendition_width, rendition_height)
    files: dict[tuple[int, str], tuple[str, int, int]] = {}
    for image_id, picture in found.items():
        for spec in specs:
            key = _filter(spec).get_cache_key(SimpleNamespace(**picture))
            file = stored.get((image_id, spec, key))
            if file is None:
                rendition = ExhibitionImage.objects.get(pk=image_id).get_rendition(_filter(spec))
                file = (rendition.file.name, rendition.width, rendition.height)
            files[(image_id, spec)] = file
    return found, files


@cache
def _filter(spec: str) -> Filter:
    """One Wagtail filter per size, kept (a new one parses its spec every time)."""
    return Filter(spec=spec)


def exhibition_rows() -> QuerySet[Exhibition]:
    """Every exhibition row, for staff (the row is what is live, or the first draft)."""
    return Exhibition.objects.select_related("latest_revision", "live_revision")


def drafts(
    exhibition_filter: ExhibitionFilter | None = None,
) -> list[tuple[Exhibition, Exhibition]]:
    """Every exhibition's row with its latest revision (what editors are working on), in the
    drafts' order."""
    exhibition_filter = exhibition_filter or ExhibitionFilter()
    found = []
    for row in exhibition_rows().order_by("opens_on", "slug"):
        draft = row.get_latest_revision_as_object()
        if exhibition_filter.matches(draft):
            found.append((row, draft))
    found.sort(key=lambda pair: (pair[1].opens_on, pair[1].slug))
    return found


def revisions(exhibition: Exhibition) -> QuerySet[Revision]:
    return (
        Revision.objects.filter(content_type=_content_type(), object_id=str(exhibition.pk))
        .select_related("user")
        .order_by("-created_at", "-pk")
    )


def preview_links(exhibition: Exhibition) -> QuerySet[PreviewLink]:
    return exhibition.preview_links.select_related("created_by", "revision").order_by(
        "-created_at", "-pk"
    )


def images() -> QuerySet[ExhibitionImage]:
    return ExhibitionImage.objects.order_by("-created_at", "-pk")
