"""Exhibitions in and out.

Two shapes go out:

- the **public** one (lists, items, previews): one language, the body as JSON blocks with
  pictures in the sizes asked for, and species as small cards;
- the **editor** one (writes, revisions): both languages and the body as Wagtail stores it
  (``[{"type", "value", "id"}]``, pictures and species by id), which a PATCH takes back as is.

The public one is built by plain functions from the prefetched objects (a list of 25 with their
pictures costs a handful of queries, whatever the body holds).
"""

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from wagtail.rich_text import expand_db_html

from api.serializers import InputSerializer
from apps.business.exhibitions import selectors
from apps.business.exhibitions.models import (
    Exhibition,
    ExhibitionImage,
    ExhibitionKind,
    PreviewLink,
)
from apps.business.infrastructure.models import Habitat, Section
from apps.business.wildlife.models import Species

# --- Input ------------------------------------------------------------------------------

BODY_HELP = _(
    'Blocks as [{"type": ..., "value": ...}]; types: rich_text (HTML; tags outside p, br, h3, '
    "h4, strong, b, em, i, ol, ul, li, a, blockquote are removed), fact_box ({title, facts: "
    "[{label, value}]}), image ({image: id, alt_text, credit, caption}), species_card ({species: "
    "id, note}), call_to_action ({label, url}: https://… or a path such as /tickets)."
)


@extend_schema_field(
    {
        "type": "array",
        "maxItems": 60,
        "items": {
            "type": "object",
            "required": ["type", "value"],
            "properties": {
                "type": {
                    "type": "string",
                    "enum": ["rich_text", "fact_box", "image", "species_card", "call_to_action"],
                },
                "value": {},
                "id": {"type": "string"},
            },
        },
    }
)
class BodyField(serializers.JSONField):
    pass


class GalleryItemInput(InputSerializer):
    image = serializers.PrimaryKeyRelatedField(queryset=ExhibitionImage.objects.all())
    caption_es = serializers.CharField(max_length=255, required=False, allow_blank=True)
    caption_en = serializers.CharField(max_length=255, required=False, allow_blank=True)


class ExhibitionInput(InputSerializer):
    """A new exhibition (a draft), or, partially, a new revision of its draft."""

    slug = serializers.SlugField(max_length=80)
    kind = serializers.ChoiceField(choices=ExhibitionKind.choices, required=False)
    title_es = serializers.CharField(max_length=160)
    title_en = serializers.CharField(max_length=160, required=False, allow_blank=True)
    summary_es = serializers.CharField(max_length=600, required=False, allow_blank=True)
    summary_en = serializers.CharField(max_length=600, required=False, allow_blank=True)
    body_es = BodyField(required=False, help_text=BODY_HELP)
    body_en = BodyField(required=False, help_text=BODY_HELP)
    hero_image = serializers.PrimaryKeyRelatedField(
        queryset=ExhibitionImage.objects.all(), required=False, allow_null=True
    )
    species = serializers.ListField(
        child=serializers.PrimaryKeyRelatedField(queryset=Species.objects.all()),
        required=False,
        max_length=100,
    )
    section = serializers.PrimaryKeyRelatedField(
        queryset=Section.objects.all(), required=False, allow_null=True
    )
    habitat = serializers.PrimaryKeyRelatedField(
        queryset=Habitat.objects.all(), required=False, allow_null=True
    )
    opens_on = serializers.DateField()
    closes_on = serializers.DateField(required=False, allow_null=True)
    gallery = GalleryItemInput(many=True, required=False, max_length=40)  # type: ignore[call-arg]


class PublishInput(InputSerializer):
    at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=_("When it goes live (ISO 8601 with an offset); left out: now."),
    )


class UnpublishInput(InputSerializer):
    at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=_("When it comes off the public site; left out: now."),
    )
    cancel = serializers.BooleanField(
        required=False, default=False, help_text=_("Drop a scheduled unpublication instead.")
    )


class PreviewLinkInput(InputSerializer):
    expires_in_hours = serializers.IntegerField(
        required=False, min_value=1, max_value=720, help_text=_("Default 24.")
    )
    revision = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Default: the latest draft.")
    )


class ImageInput(InputSerializer):
    file = serializers.FileField(help_text=_("A JPEG, PNG or WebP picture."))
    alt_text_es = serializers.CharField(max_length=255)
    alt_text_en = serializers.CharField(max_length=255, required=False, allow_blank=True)
    credit = serializers.CharField(max_length=200, required=False, allow_blank=True)
    title = serializers.CharField(max_length=255, required=False, allow_blank=True)


class CompareQuery(serializers.Serializer):
    a = serializers.IntegerField(min_value=1, max_value=2**62, help_text=_("A revision id."))
    b = serializers.IntegerField(min_value=1, max_value=2**62, help_text=_("Another one."))


# --- Output: pictures ----------------------------------------------------------------------

Url = Callable[[str], str]


class RenditionSerializer(serializers.Serializer):
    url = serializers.URLField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class ImageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    alt_text = serializers.CharField()
    credit = serializers.CharField()
    renditions = serializers.DictField(child=RenditionSerializer())


class EditorImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExhibitionImage
        fields = (
            "id",
            "title",
            "alt_text_es",
            "alt_text_en",
            "credit",
            "width",
            "height",
            "file_size",
            "created_at",
        )


# --- Output: the public shape ------------------------------------------------------------


def _in(language: str, spanish: Any, english: Any) -> Any:
    """The English text when asked for and written, else the Spanish one."""
    return (english if language == "en" else "") or spanish


class PublicShape:
    """Builds the public shape of a page of exhibitions from plain rows
    (``selectors.live_rows``, ``selectors.live_row`` or ``selectors.row_of``): one query per
    kind of related thing (species, gallery, pictures with their renditions) for the whole
    page, no model instances."""

    def __init__(
        self,
        rows: list[dict[str, Any]],
        *,
        language: str,
        renditions: Iterable[str],
        url: Url,
        detail: bool,
    ) -> None:
        self.rows, self.language, self.url, self.detail = rows, language, url, detail
        self.sizes = [(name, settings.EXHIBITION_RENDITIONS[name]) for name in renditions]
        # Rows read from the database name neither their species nor their gallery; rows
        # rebuilt from a revision carry both.
        from_rows = [row for row in rows if "species_ids" not in row]
        image_ids = {row["hero_image_id"] for row in rows if row["hero_image_id"]}
        species_ids: set[int] = set()
        if detail:
            missing = [row["id"] for row in rows if "gallery" not in row]
            found = selectors.galleries(missing) if missing else {}
            for row in rows:
                if "gallery" not in row:
                    row["gallery"] = found.get(row["id"], [])
                image_ids.update(item[0] for item in row["gallery"])
                for block in self._body(row):
                    value = block.get("value") or {}
                    if block.get("type") == "image" and value.get("image"):
                        image_ids.add(value["image"])
                    elif block.get("type") == "species_card" and value.get("species"):
                        species_ids.add(value["species"])
        self.cards: dict[int, tuple[str, str, str]] = {}
        asked: set[int] = set()  # species looked up already (hidden ones are not in cards)
        if detail and len(from_rows) == 1:  # an item: its species and its cards' together
            [row] = from_rows
            row["species_ids"], self.cards = selectors.item_species(row["id"], species_ids)
            asked = set(species_ids)
        elif from_rows:
            linked, self.cards = selectors.species_of(row["id"] for row in from_rows)
            for row in from_rows:
                row["species_ids"] = linked.get(row["id"], [])
        species_ids.update(species for row in rows for species in row["species_ids"])
        species_ids -= set(self.cards) | asked
        if species_ids:  # of revisions, or of species cards in bodies
            self.cards.update(selectors.species_cards(species_ids))
        self.pictures, self.files = (
            selectors.pictures(image_ids, [spec for _name, spec in self.sizes])
            if image_ids
            else ({}, {})
        )

    def _body(self, row: dict[str, Any]) -> Any:
        """The body's blocks as stored (rows from the database hold them so; an exhibition
        rebuilt from a revision, a stream)."""
        spanish, english = (
            getattr(body, "raw_data", body) for body in (row["body_es"], row["body_en"])
        )
        return english if self.language == "en" and english else spanish

    def picture(self, image_id: int | None) -> dict[str, Any] | None:
        picture = self.pictures.get(image_id) if image_id else None
        if picture is None:
            return None
        renditions = {}
        for name, spec in self.sizes:
            file_name, width, height = self.files[(picture["id"], spec)]
            renditions[name] = {"url": self.url(file_name), "width": width, "height": height}
        return {
            "id": picture["id"],
            "width": picture["width"],
            "height": picture["height"],
            "alt_text": _in(self.language, picture["alt_text_es"], picture["alt_text_en"]),
            "credit": picture["credit"],
            "renditions": renditions,
        }

    def card(self, species_id: int) -> dict[str, Any] | None:
        names = self.cards.get(species_id)
        if names is None:
            return None  # hidden from the public, or gone
        return {
            "id": species_id,
            "common_name": _in(self.language, names[0], names[1]),
            "scientific_name": names[2],
        }

    def block(self, block: dict[str, Any]) -> dict[str, Any] | None:
        kind, value = block["type"], block["value"]
        shown: Any
        if kind == "rich_text":
            shown = {"html": expand_db_html(value)}
        elif kind == "fact_box":
            facts = [fact.get("value", fact) if "type" in fact else fact for fact in value["facts"]]
            shown = {
                "title": value["title"],
                "facts": [{"label": fact["label"], "value": fact["value"]} for fact in facts],
            }
        elif kind == "image":
            picture = self.picture(value.get("image"))
            if picture is None:
                return None  # the picture was deleted since
            picture["alt_text"] = value["alt_text"]
            picture["credit"] = value.get("credit") or picture["credit"]
            shown = {"image": picture, "caption": value.get("caption") or ""}
        elif kind == "species_card":
            card = self.card(value.get("species"))
            if card is None:
                return None
            shown = {"species": card, "note": value.get("note") or ""}
        else:
            shown = {"label": value["label"], "url": value["url"]}
        return {"type": kind, "id": block.get("id"), "value": shown}

    def one(self, row: dict[str, Any]) -> dict[str, Any]:
        language = self.language
        section = (
            {
                "id": row["section_id"],
                "name": _in(language, row["section__name_es"], row["section__name_en"]),
            }
            if row["section_id"]
            else None
        )
        habitat = (
            {"id": row["habitat_id"], "name": row["habitat__name"]} if row["habitat_id"] else None
        )
        data: dict[str, Any] = {
            "slug": row["slug"],
            "kind": row["kind"],
            "title": _in(language, row["title_es"], row["title_en"]),
            "summary": _in(language, row["summary_es"], row["summary_en"]),
            "opens_on": row["opens_on"].isoformat() if row["opens_on"] else None,
            "closes_on": row["closes_on"].isoformat() if row["closes_on"] else None,
            "section": section,
            "habitat": habitat,
            "hero_image": self.picture(row["hero_image_id"]),
            "species": [
                card
                for card in (self.card(species) for species in row["species_ids"])
                if card is not None
            ],
            "language": language,
        }
        if self.detail:
            data["body"] = [
                shown for shown in (self.block(block) for block in self._body(row)) if shown
            ]
            data["gallery"] = [
                {"image": picture, "caption": _in(language, caption_es, caption_en)}
                for picture, caption_es, caption_en in (
                    (self.picture(image_id), caption_es, caption_en)
                    for image_id, caption_es, caption_en in row["gallery"]
                )
                if picture is not None
            ]
        return data

    def all(self) -> list[dict[str, Any]]:
        return [self.one(row) for row in self.rows]


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SpeciesCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    common_name = serializers.CharField()
    scientific_name = serializers.CharField()


class BlockSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["rich_text", "fact_box", "image", "species_card", "call_to_action"]
    )
    id = serializers.CharField()
    value = serializers.DictField(
        help_text=_(
            "rich_text: {html}; fact_box: {title, facts: [{label, value}]}; image: {image, "
            "caption}; species_card: {species, note}; call_to_action: {label, url}."
        )
    )


class GalleryItemSerializer(serializers.Serializer):
    image = ImageSerializer()
    caption = serializers.CharField()


class ExhibitionSerializer(serializers.Serializer):
    """Documents the public shape (built by ``public_representation``)."""

    slug = serializers.SlugField()
    kind = serializers.ChoiceField(choices=ExhibitionKind.choices)
    title = serializers.CharField()
    summary = serializers.CharField()
    opens_on = serializers.DateField()
    closes_on = serializers.DateField(allow_null=True)
    section = NamedSerializer(allow_null=True)
    habitat = NamedSerializer(allow_null=True)
    hero_image = ImageSerializer(allow_null=True)
    species = SpeciesCardSerializer(many=True)
    language = serializers.ChoiceField(choices=["es", "en"])
    body = BlockSerializer(many=True, required=False, help_text=_("Items only."))
    gallery = GalleryItemSerializer(many=True, required=False, help_text=_("Items only."))
    status = serializers.DictField(
        required=False, help_text=_("With ?preview=true only: the draft's state.")
    )


# --- Output: the editor shape --------------------------------------------------------------


def status_representation(row: Exhibition) -> dict[str, Any]:
    pending = row.revisions.filter(approved_go_live_at__isnull=False).first()
    return StatusSerializer(
        {
            "live": row.live,
            "has_unpublished_changes": row.has_unpublished_changes,
            "scheduled_publication": pending.approved_go_live_at if pending else None,
            "scheduled_revision": pending.pk if pending else None,
            "scheduled_unpublication": row.expire_at,
            "first_published_at": row.first_published_at,
            "last_published_at": row.last_published_at,
            "live_revision": row.live_revision_id,
            "latest_revision": row.latest_revision_id,
            "locked": row.locked,
        }
    ).data


class StatusSerializer(serializers.Serializer):
    live = serializers.BooleanField()
    has_unpublished_changes = serializers.BooleanField()
    scheduled_publication = serializers.DateTimeField(allow_null=True)
    scheduled_revision = serializers.IntegerField(allow_null=True)
    scheduled_unpublication = serializers.DateTimeField(allow_null=True)
    first_published_at = serializers.DateTimeField(allow_null=True)
    last_published_at = serializers.DateTimeField(allow_null=True)
    live_revision = serializers.IntegerField(allow_null=True)
    latest_revision = serializers.IntegerField(allow_null=True)
    locked = serializers.BooleanField()


def content_representation(exhibition: Exhibition) -> dict[str, Any]:
    """The editable content of an exhibition (a row, or one rebuilt from a revision)."""
    return {
        "slug": exhibition.slug,
        "kind": exhibition.kind,
        "title_es": exhibition.title_es,
        "title_en": exhibition.title_en,
        "summary_es": exhibition.summary_es,
        "summary_en": exhibition.summary_en,
        "body_es": list(exhibition.body_es.raw_data),
        "body_en": list(exhibition.body_en.raw_data),
        "hero_image": exhibition.hero_image_id,
        "species": sorted(species.pk for species in exhibition.species.all()),
        "section": exhibition.section_id,
        "habitat": exhibition.habitat_id,
        "opens_on": exhibition.opens_on,
        "closes_on": exhibition.closes_on,
        "gallery": [
            {"image": item.image_id, "caption_es": item.caption_es, "caption_en": item.caption_en}
            for item in exhibition.gallery.all()
        ],
    }


class ExhibitionContentSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    kind = serializers.ChoiceField(choices=ExhibitionKind.choices)
    title_es = serializers.CharField()
    title_en = serializers.CharField()
    summary_es = serializers.CharField()
    summary_en = serializers.CharField()
    body_es = BodyField()
    body_en = BodyField()
    hero_image = serializers.IntegerField(allow_null=True)
    species = serializers.ListField(child=serializers.IntegerField())
    section = serializers.IntegerField(allow_null=True)
    habitat = serializers.IntegerField(allow_null=True)
    opens_on = serializers.DateField()
    closes_on = serializers.DateField(allow_null=True)
    gallery = GalleryItemInput(many=True)


class EditorExhibitionSerializer(serializers.Serializer):
    """What writes answer: the latest draft's content and the exhibition's state."""

    content = ExhibitionContentSerializer()
    status = StatusSerializer()


class RevisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    author = serializers.EmailField(allow_null=True)
    title = serializers.CharField()
    live = serializers.BooleanField(help_text=_("This revision is what is published."))
    latest = serializers.BooleanField(help_text=_("This revision is the draft."))
    scheduled_for = serializers.DateTimeField(allow_null=True)


class RevisionDetailSerializer(RevisionSerializer):
    content = ExhibitionContentSerializer()


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class CompareSerializer(serializers.Serializer):
    a = serializers.IntegerField()
    b = serializers.IntegerField()
    changes = ChangeSerializer(many=True)


class PreviewLinkSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email")
    active = serializers.SerializerMethodField()

    class Meta:
        model = PreviewLink
        fields = (
            "id",
            "revision",
            "created_by",
            "created_at",
            "expires_at",
            "revoked_at",
            "uses",
            "last_used_at",
            "active",
        )

    def get_active(self, link: PreviewLink) -> bool:
        return link.is_active()


class PreviewLinkCreatedSerializer(PreviewLinkSerializer):
    token = serializers.CharField(help_text=_("Shown once; only its hash is kept."))
    url = serializers.URLField(help_text=_("GET it to see the revision."))

    class Meta(PreviewLinkSerializer.Meta):
        fields = (*PreviewLinkSerializer.Meta.fields, "token", "url")  # type: ignore[assignment]
