"""Exhibitions: the park's editorial content for its website and in-park screens.

An exhibition is a Wagtail snippet with drafts, revisions, scheduled publishing, locking and
previews (docs/adr/0032). Its row holds what is live (before the first publication: the first
draft); every save is a ``wagtailcore.Revision`` with its author and time; the latest
revision is the draft editors work on. What the public sees at a given moment is decided by
``selectors.live_rows``, from the row and any revision whose scheduled time has come.
"""

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.fields import StreamField
from wagtail.images.models import AbstractImage, AbstractRendition, Image
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    Orderable,
    PreviewableMixin,
    RevisionMixin,
)
from wagtail.search import index

from .blocks import ExhibitionBody

# Paths under /api/v1/exhibitions/ that are not exhibitions.
RESERVED_SLUGS = frozenset({"images", "preview", "revisions", "preview-links"})


class ExhibitionKind(models.TextChoices):
    PERMANENT = "permanent", _("Permanent")
    TEMPORARY = "temporary", _("Temporary")
    ITINERANT = "itinerant", _("Itinerant")


class ExhibitionImage(AbstractImage):
    """A picture of the exhibitions, with what it shows in both languages and who made it."""

    alt_text_es = models.CharField(_("alternative text (Spanish)"), max_length=255)
    alt_text_en = models.CharField(_("alternative text (English)"), max_length=255, blank=True)
    credit = models.CharField(_("credit"), max_length=200, blank=True)

    admin_form_fields = (*Image.admin_form_fields, "alt_text_es", "alt_text_en", "credit")

    class Meta:
        verbose_name = _("exhibition image")
        verbose_name_plural = _("exhibition images")


class ExhibitionRendition(AbstractRendition):
    """One size of an exhibition image, made on first use and kept in the storage backend."""

    image = models.ForeignKey(ExhibitionImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)


class Exhibition(
    DraftStateMixin, LockableMixin, RevisionMixin, PreviewableMixin, index.Indexed, ClusterableModel
):
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    kind = models.CharField(
        _("kind"), max_length=12, choices=ExhibitionKind.choices, default=ExhibitionKind.PERMANENT
    )
    title_es = models.CharField(_("title (Spanish)"), max_length=160)
    title_en = models.CharField(_("title (English)"), max_length=160, blank=True)
    summary_es = models.TextField(_("summary (Spanish)"), max_length=600, blank=True)
    summary_en = models.TextField(_("summary (English)"), max_length=600, blank=True)
    body_es = StreamField(ExhibitionBody(), blank=True, verbose_name=_("body (Spanish)"))
    body_en = StreamField(ExhibitionBody(), blank=True, verbose_name=_("body (English)"))
    hero_image = models.ForeignKey(
        ExhibitionImage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hero image"),
    )
    species = ParentalManyToManyField(
        "wildlife.Species", blank=True, related_name="exhibitions", verbose_name=_("species")
    )
    section = models.ForeignKey(
        "infrastructure.Section",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exhibitions",
        verbose_name=_("section"),
    )
    habitat = models.ForeignKey(
        "infrastructure.Habitat",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exhibitions",
        verbose_name=_("habitat"),
    )
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Revisions go with their exhibition; the query name lets them be filtered by it.
    _revisions = GenericRelation("wagtailcore.Revision", related_query_name="exhibition")

    search_fields = [
        index.SearchField("title_es"),
        index.SearchField("title_en"),
        index.AutocompleteField("title_es"),
        index.SearchField("summary_es"),
        index.SearchField("summary_en"),
        index.SearchField("slug"),
        index.FilterField("kind"),
        index.FilterField("live"),
    ]

    class Meta:
        verbose_name = _("exhibition")
        verbose_name_plural = _("exhibitions")
        ordering = ("opens_on", "slug")
        indexes = [models.Index(fields=["live", "opens_on"], name="exhibition_live_opens")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_on__isnull=True)
                | models.Q(closes_on__gte=models.F("opens_on")),
                name="exhibition_closes_after_opening",
            )
        ]

    def __str__(self) -> str:
        return self.title_es

    def clean(self) -> None:
        super().clean()
        errors: dict[str, Any] = {}
        if self.slug in RESERVED_SLUGS:
            errors["slug"] = _("This slug is reserved; choose another.")
        if self.closes_on and self.opens_on and self.closes_on < self.opens_on:
            errors["closes_on"] = _("An exhibition closes on or after the day it opens.")
        if (
            self.habitat_id
            and self.section_id
            and self.habitat is not None
            and self.habitat.section_id != self.section_id
        ):
            errors["habitat"] = _("The habitat is in another section.")
        if errors:
            raise ValidationError(errors)

    def get_preview_template(self, request: object, mode_name: str) -> str:
        return "exhibitions/preview.html"

    def get_preview_context(self, request: object, mode_name: str) -> dict[str, object]:
        context = super().get_preview_context(request, mode_name)
        context["exhibition"] = self
        context["species_list"] = list(self.species.all())
        return context


class ExhibitionGalleryImage(Orderable):
    exhibition = ParentalKey(Exhibition, on_delete=models.CASCADE, related_name="gallery")
    image = models.ForeignKey(
        ExhibitionImage, on_delete=models.CASCADE, related_name="+", verbose_name=_("image")
    )
    caption_es = models.CharField(_("caption (Spanish)"), max_length=255, blank=True)
    caption_en = models.CharField(_("caption (English)"), max_length=255, blank=True)

    class Meta(Orderable.Meta):
        verbose_name = _("gallery image")
        verbose_name_plural = _("gallery")


class PreviewLink(models.Model):
    """A link that shows one draft revision to whoever holds it, until it expires or is
    revoked; only the SHA-256 of its token is kept."""

    exhibition = models.ForeignKey(
        Exhibition, on_delete=models.CASCADE, related_name="preview_links"
    )
    revision = models.ForeignKey("wagtailcore.Revision", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("uses"), default=0)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("preview link")
        verbose_name_plural = _("preview links")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        expires_at = timezone.localtime(self.expires_at)
        return f"{self.exhibition.slug} r{self.revision_id} → {expires_at:%Y-%m-%d %H:%M}"

    def is_active(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.revoked_at is None and self.expires_at > moment  # type: ignore[operator]
