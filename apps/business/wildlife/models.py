"""Species, animals and their records (after Species360 ZIMS, for a single park)."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.business.infrastructure.models import Habitat
from apps.support.common.models import TimeStampedModel
from apps.support.common.text import search_key


class ConservationStatus(models.Model):
    """An IUCN Red List category (reference data from a migration)."""

    code = models.CharField(_("code"), max_length=2, unique=True)
    name_es = models.CharField(_("name (Spanish)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60)
    rank = models.PositiveSmallIntegerField(
        _("rank"), help_text=_("0 = extinct … 8 = not evaluated")
    )

    class Meta:
        verbose_name = _("conservation status")
        verbose_name_plural = _("conservation statuses")
        ordering = ("rank",)

    def __str__(self) -> str:
        return f"{self.code} — {self.name_en}"


class CitesAppendix(models.TextChoices):
    I = "I", _("Appendix I")  # noqa: E741
    II = "II", _("Appendix II")
    III = "III", _("Appendix III")
    NOT_LISTED = "", _("Not listed")


scientific_name_validator = RegexValidator(
    r"^[A-Z][a-z]+ [a-z]+(-[a-z]+)?( [a-z]+)?$",
    _("Use binomial nomenclature: “Genus species” (optionally a subspecies), e.g. Chelonia mydas."),
    code="invalid_scientific_name",
)


class Species(TimeStampedModel):
    common_name_es = models.CharField(_("common name (Spanish)"), max_length=120)
    common_name_en = models.CharField(_("common name (English)"), max_length=120, blank=True)
    scientific_name = models.CharField(
        _("scientific name"), max_length=150, unique=True, validators=[scientific_name_validator]
    )
    taxon_class = models.CharField(_("class"), max_length=60)
    taxon_order = models.CharField(_("order"), max_length=60)
    family = models.CharField(_("family"), max_length=60)
    aphia_id = models.PositiveIntegerField(_("WoRMS AphiaID"), null=True, blank=True, unique=True)
    conservation_status = models.ForeignKey(
        ConservationStatus,
        on_delete=models.PROTECT,
        related_name="species",
        verbose_name=_("IUCN category"),
    )
    cites_appendix = models.CharField(
        _("CITES appendix"), max_length=3, choices=CitesAppendix.choices, blank=True, default=""
    )
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    diet = models.CharField(_("diet"), max_length=255, blank=True)
    natural_habitat = models.TextField(_("natural habitat"), blank=True)
    typical_length_cm = models.DecimalField(
        _("typical length (cm)"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    typical_lifespan_years = models.PositiveSmallIntegerField(
        _("typical lifespan (years)"), null=True, blank=True
    )
    is_public = models.BooleanField(_("shown to the public"), default=True)
    search_text = models.CharField(max_length=500, editable=False, db_index=True, default="")

    class Meta:
        verbose_name = _("species")
        verbose_name_plural = _("species")
        ordering = ("common_name_es",)
        constraints = [
            models.CheckConstraint(
                condition=Q(typical_length_cm__gt=0), name="species_length_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.common_name_es} ({self.scientific_name})"

    def save(self, *args: object, **kwargs: object) -> None:
        # A derived search key, like an index: kept in step with the names on every save.
        self.search_text = search_key(
            self.common_name_es, self.common_name_en, self.scientific_name
        )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]


def species_image_path(instance: "SpeciesImage", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"species/{instance.species_id}/{instance.uuid}.{extension}"


class SpeciesImage(TimeStampedModel):
    species = models.ForeignKey(Species, on_delete=models.CASCADE, related_name="images")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    image = models.ImageField(
        _("image"), upload_to=species_image_path, width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(editable=False, null=True)
    height = models.PositiveIntegerField(editable=False, null=True)
    alt_text_es = models.CharField(_("alternative text (Spanish)"), max_length=255)
    alt_text_en = models.CharField(_("alternative text (English)"), max_length=255, blank=True)
    credit = models.CharField(_("credit"), max_length=120, blank=True)
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        verbose_name = _("species image")
        verbose_name_plural = _("species images")
        ordering = ("display_order", "id")

    def __str__(self) -> str:
        return self.alt_text_es


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


class Origin(models.TextChoices):
    BORN_HERE = "born_here", _("Born here")
    RESCUED = "rescued", _("Rescued")
    TRANSFERRED_IN = "transferred_in", _("Transferred in")
    CONFISCATED = "confiscated", _("Confiscated")


class AnimalStatus(models.TextChoices):
    IN_COLLECTION = "in_collection", _("In collection")
    IN_REHABILITATION = "in_rehabilitation", _("In rehabilitation")
    RELEASED = "released", _("Released")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out")
    DECEASED = "deceased", _("Deceased")


# Animals that occupy a place in a habitat.
RESIDENT_STATUSES = (AnimalStatus.IN_COLLECTION, AnimalStatus.IN_REHABILITATION)


class Animal(TimeStampedModel):
    institutional_id = models.CharField(
        _("institutional identifier"),
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(
                r"^[A-Z0-9][A-Z0-9-]{2,31}$", _("Capitals, digits and dashes, e.g. PMP-2026-0012.")
            )
        ],
    )
    house_name = models.CharField(_("house name"), max_length=80, blank=True)
    transponder_id = models.CharField(_("transponder or tag"), max_length=40, blank=True)
    species = models.ForeignKey(Species, on_delete=models.PROTECT, related_name="animals")
    sex = models.CharField(_("sex"), max_length=7, choices=Sex.choices, default=Sex.UNKNOWN)
    hatch_date = models.DateField(_("hatch or birth date"), null=True, blank=True)
    hatch_date_estimated = models.BooleanField(_("date estimated"), default=False)
    origin = models.CharField(_("origin"), max_length=15, choices=Origin.choices)
    status = models.CharField(
        _("status"), max_length=17, choices=AnimalStatus.choices, default=AnimalStatus.IN_COLLECTION
    )
    status_date = models.DateField(_("status since"))
    current_habitat = models.ForeignKey(
        Habitat, on_delete=models.PROTECT, related_name="animals", null=True, blank=True
    )
    release_place = models.CharField(_("release place"), max_length=255, blank=True)
    is_public = models.BooleanField(_("shown to the public"), default=True)

    class Meta:
        verbose_name = _("animal")
        verbose_name_plural = _("animals")
        ordering = ("institutional_id",)
        constraints = (
            models.UniqueConstraint(
                fields=("transponder_id",),
                condition=~Q(transponder_id=""),
                name="transponder_unique_when_set",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RESIDENT_STATUSES) | Q(current_habitat__isnull=True),
                name="only_residents_have_a_habitat",
            ),
        )

    def __str__(self) -> str:
        return f"{self.institutional_id} {self.house_name}".strip()


class AnimalLocation(models.Model):
    """Where an animal was moved, when, why and by whom (the location history)."""

    animal = models.ForeignKey(Animal, on_delete=models.CASCADE, related_name="locations")
    habitat = models.ForeignKey(
        Habitat, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    moved_at = models.DateTimeField(_("moved at"))
    reason = models.TextField(_("reason"))
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("animal location")
        verbose_name_plural = _("animal locations")
        ordering = ("-moved_at", "-id")

    def __str__(self) -> str:
        return f"{self.animal} → {self.habitat or '—'}"


class Weight(models.Model):
    animal = models.ForeignKey(Animal, on_delete=models.CASCADE, related_name="weights")
    weighed_at = models.DateTimeField(_("weighed at"))
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=9, decimal_places=3, validators=[MinValueValidator(0)]
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.CharField(_("notes"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("weight")
        verbose_name_plural = _("weights")
        ordering = ("-weighed_at",)
        constraints = (
            models.CheckConstraint(condition=Q(weight_kg__gt=0), name="weight_positive"),
        )

    def __str__(self) -> str:
        return f"{self.animal}: {self.weight_kg} kg"


class MedicalRecordKind(models.TextChoices):
    EXAM = "exam", _("Examination")
    TREATMENT = "treatment", _("Treatment")
    VACCINATION = "vaccination", _("Vaccination")
    NECROPSY = "necropsy", _("Necropsy")


class MedicalRecord(TimeStampedModel):
    """Veterinary records: only veterinarians and administrators see or write them."""

    animal = models.ForeignKey(Animal, on_delete=models.PROTECT, related_name="medical_records")
    kind = models.CharField(_("kind"), max_length=12, choices=MedicalRecordKind.choices)
    performed_on = models.DateField(_("date"))
    summary = models.CharField(_("summary"), max_length=255)
    details = models.TextField(_("details"), blank=True)
    medication = models.CharField(_("medication and dose"), max_length=255, blank=True)
    veterinarian = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("medical record")
        verbose_name_plural = _("medical records")
        ordering = ("-performed_on", "-id")

    def __str__(self) -> str:
        return f"{self.animal}: {self.get_kind_display()} {self.performed_on}"
