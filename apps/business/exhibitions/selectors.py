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
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q, QuerySet
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


# What the public shape reads of an exhibition (and of its section and habitat), of a picture
# (with what Wagtail reads to find, or make, its renditions) and of a species card (with
# whether it may be shown). The rest of the rows is neither loaded nor decoded.
EXHIBITION_FIELDS = (
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
    "habitat__name",
)
PICTURE_FIELDS = (
    "file",
    "file_hash",
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
SPECIES_CARD_FIELDS = ("id", "common_name_es", "common_name_en", "scientific_name", "is_public")


def _picture_fields(path: str) -> list[str]:
    return [f"{path}__{name}" for name in PICTURE_FIELDS]


def _renditions(pictures: str, renditions: Iterable[str]) -> Prefetch:
    """The renditions of the pictures at ``pictures`` (a lookup), where Wagtail looks for them
    first (``prefetched_renditions``, as ``prefetch_renditions`` puts them); all of them when
    no filter spec is given."""
    specs = list(renditions)
    queryset = ExhibitionRendition.objects.all()
    if specs:
        queryset = queryset.filter(filter_spec__in=specs)
    return Prefetch(f"{pictures}__renditions", queryset=queryset, to_attr="prefetched_renditions")


def with_related(
    queryset: QuerySet[Exhibition], renditions: Iterable[str] = (), *, detail: bool = True
) -> QuerySet[Exhibition]:
    """The exhibitions with what the public shape shows (and only that: for a list,
    ``detail=False``, not even their bodies), pictures with their renditions. Pictures come
    with the rows that show them, their renditions in one query per kind of row."""
    renditions = list(renditions)
    related: list[Any] = [
        _renditions("hero_image", renditions),
        Prefetch("species", queryset=Species.objects.only(*SPECIES_CARD_FIELDS)),
    ]
    fields = [*EXHIBITION_FIELDS, *_picture_fields("hero_image")]
    if detail:
        fields += ["body_es", "body_en"]
        gallery = ExhibitionGalleryImage.objects.select_related("image").only(
            "exhibition", "sort_order", "caption_es", "caption_en", *_picture_fields("image")
        )
        related += [
            Prefetch("gallery", queryset=gallery),
            _renditions("gallery__image", renditions),
        ]
    return (
        queryset.select_related("section", "habitat", "hero_image")
        .only(*fields)
        .prefetch_related(*related)
    )


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


def live_exhibition(slug: str, now: datetime, renditions: Iterable[str] = ()) -> Exhibition | None:
    """The exhibition published at ``now`` under ``slug``, if any."""
    for revision in due_revisions(now):
        exhibition = revision.as_object()
        if exhibition.slug == slug:
            return exhibition if _unexpired(exhibition, now) else None
        if Exhibition.objects.filter(pk=exhibition.pk, slug=slug).exists():
            return None  # its slug changes at this publication
    return with_related(
        Exhibition.objects.filter(slug=slug, live=True).filter(
            Q(expire_at__isnull=True) | Q(expire_at__gt=now)
        ),
        renditions,
    ).first()


def exhibition_rows() -> QuerySet[Exhibition]:
    """Every exhibition row, for staff (the row is what is live, or the first draft)."""
    return Exhibition.objects.select_related("latest_revision", "live_revision")


def drafts(exhibition_filter: ExhibitionFilter | None = None) -> list[Exhibition]:
    """Every exhibition as its latest revision (what editors are working on)."""
    exhibition_filter = exhibition_filter or ExhibitionFilter()
    found = []
    for row in exhibition_rows().order_by("opens_on", "slug"):
        draft = row.get_latest_revision_as_object()
        if exhibition_filter.matches(draft):
            found.append(draft)
    found.sort(key=lambda exhibition: (exhibition.opens_on, exhibition.slug))
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
