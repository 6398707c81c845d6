"""Reads of the exhibitions module.

What the public sees is decided at the time of each request, from the rows and the
revisions whether or not the scheduling job has run (docs/adr/0032):

- a revision whose scheduled time has come (``approved_go_live_at`` ≤ now) is what is live for
  its exhibition, unless its own ``expire_at`` has passed;
- otherwise a live row is live until its ``expire_at``;
- anything else (drafts, revisions scheduled for later, expired or unpublished rows) is not.

The job (``tasks.publish_scheduled``) only catches the rows up with that answer.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from wagtail.images.models import Filter
from wagtail.models import Revision

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

    def q(self) -> Q:
        condition = Q()
        if self.open_on is not None:
            condition &= Q(opens_on__lte=self.open_on) & (
                Q(closes_on__isnull=True) | Q(closes_on__gte=self.open_on)
            )
        if self.species is not None:
            condition &= Q(species__id=self.species)
        if self.section is not None:
            condition &= Q(section_id=self.section) | Q(habitat__section_id=self.section)
        if self.habitat is not None:
            condition &= Q(habitat_id=self.habitat)
        if self.kind is not None:
            condition &= Q(kind=self.kind)
        return condition

    def matches(self, exhibition: Exhibition) -> bool:
        """The same test as ``q()``, for an exhibition rebuilt from a revision (not a row)."""
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


# The public read path: plain rows, one query per kind of related thing for a whole page, no
# model instances (as the species list's, ADR 12). What an exhibition row gives:
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


HERO_FIELDS = tuple(f"hero_image__{name}" for name in PICTURE_FIELDS)


def public_rows(queryset: QuerySet[Exhibition], *, detail: bool) -> QuerySet[Any]:
    """``queryset`` as plain rows of what the public shape shows, the hero picture joined in
    (``hero_image__…``); bodies for an item only."""
    return queryset.values(*ROW_FIELDS, *HERO_FIELDS, *(BODY_FIELDS if detail else ()))


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
    links = (
        Exhibition.species.through.objects.filter(
            exhibition_id__in=list(exhibition_ids), species__is_public=True
        )
        .order_by("species__common_name_es", "species_id")
        .values_list(
            "exhibition_id",
            "species_id",
            "species__common_name_es",
            "species__common_name_en",
            "species__scientific_name",
        )
    )
    for exhibition_id, species_id, *species_names in links:
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


def galleries(exhibition_ids: Iterable[int]) -> dict[int, list[tuple[int, str, str]]]:
    found: dict[int, list[tuple[int, str, str]]] = {}
    items = (
        ExhibitionGalleryImage.objects.filter(exhibition_id__in=list(exhibition_ids))
        .order_by("sort_order", "pk")
        .values_list("exhibition_id", "image_id", "caption_es", "caption_en")
    )
    for exhibition_id, *item in items:
        found.setdefault(exhibition_id, []).append(tuple(item))
    return found


def pictures(image_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    return {
        row["id"]: row
        for row in ExhibitionImage.objects.filter(pk__in=set(image_ids)).values(*PICTURE_FIELDS)
    }


@cache
def _filter(spec: str) -> Filter:
    """One Wagtail filter per size, kept (a new one parses its spec every time)."""
    return Filter(spec=spec)


def rendition_files(
    found: dict[int, dict[str, Any]], specs: Iterable[str]
) -> dict[tuple[int, str], tuple[str, int, int]]:
    """(file name, width, height) of each picture of ``found`` in each size of ``specs``.

    Looked up as Wagtail does (filter spec and focal point key); a size not made yet is made
    now, by Wagtail, and kept in the storage backend (a read, outside any transaction)."""
    specs = list(specs)
    if not found or not specs:
        return {}
    stored = {
        (image_id, spec, key): (name, width, height)
        for image_id, spec, key, name, width, height in ExhibitionRendition.objects.filter(
            image_id__in=list(found), filter_spec__in=specs
        ).values_list("image_id", "filter_spec", "focal_point_key", "file", "width", "height")
    }
    files: dict[tuple[int, str], tuple[str, int, int]] = {}
    for image_id, picture in found.items():
        for spec in specs:
            key = _filter(spec).get_cache_key(SimpleNamespace(**picture))
            made = stored.get((image_id, spec, key))
            if made is None:
                rendition = ExhibitionImage.objects.get(pk=image_id).get_rendition(_filter(spec))
                made = (rendition.file.name, rendition.width, rendition.height)
            files[(image_id, spec)] = made
    return files


def live_exhibitions(
    now: datetime, exhibition_filter: ExhibitionFilter | None = None
) -> tuple[QuerySet[Exhibition], list[Exhibition]]:
    """What is published at ``now``: the live rows (a queryset, with nothing prefetched) and
    the exhibitions rebuilt from revisions that have come due since the job last ran (usually
    none)."""
    exhibition_filter = exhibition_filter or ExhibitionFilter()
    due = due_revisions(now)
    due_ids = {int(revision.object_id) for revision in due}
    rows = (
        Exhibition.objects.filter(live=True)
        .filter(Q(expire_at__isnull=True) | Q(expire_at__gt=now))
        .filter(exhibition_filter.q())
        .exclude(pk__in=due_ids)
        .order_by("opens_on", "slug")
    )
    if exhibition_filter.species is not None:
        # The one filter across a many-to-many join (a row per species matched). Elsewhere
        # DISTINCT only made the count and the page compare whole rows, bodies included.
        rows = rows.distinct()
    rebuilt = []
    for revision in due:
        exhibition = revision.as_object()
        if _unexpired(exhibition, now) and exhibition_filter.matches(exhibition):
            rebuilt.append(exhibition)
    return rows, rebuilt


def live_exhibition(slug: str, now: datetime) -> tuple[QuerySet[Exhibition], Exhibition | None]:
    """The exhibition published at ``now`` under ``slug``: a revision come due since the job
    last ran (the second item), else the live row (the queryset, empty when there is none)."""
    rows = Exhibition.objects.filter(slug=slug, live=True).filter(
        Q(expire_at__isnull=True) | Q(expire_at__gt=now)
    )
    for revision in due_revisions(now):
        exhibition = revision.as_object()
        if exhibition.slug == slug:
            return rows.none(), exhibition if _unexpired(exhibition, now) else None
        if rows.filter(pk=exhibition.pk).exists():
            return rows.none(), None  # its slug changes at this publication
    return rows, None


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
