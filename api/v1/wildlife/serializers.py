from decimal import Decimal
from typing import Any

from rest_framework import serializers

from api.media import media_url_builder
from api.serializers import DateTimeField, InputSerializer, ModelSerializer
from api.v1.infrastructure.serializers import HabitatBriefSerializer
from apps.business.infrastructure.models import Habitat
from apps.business.wildlife import services
from apps.business.wildlife.models import (
    Animal,
    AnimalLocation,
    AnimalStatus,
    ConservationStatus,
    MedicalRecord,
    Origin,
    Sex,
    Species,
    SpeciesImage,
    Weight,
)


class ConservationStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConservationStatus
        fields = ("code", "name_es", "name_en", "rank")


class SpeciesImageSerializer(serializers.ModelSerializer):
    url = serializers.ImageField(source="image", read_only=True)

    class Meta:
        model = SpeciesImage
        fields = (
            "id",
            "url",
            "width",
            "height",
            "alt_text_es",
            "alt_text_en",
            "credit",
            "display_order",
        )


class SpeciesSerializer(ModelSerializer):
    conservation_status = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ConservationStatus.objects.all(),
        help_text="IUCN code, e.g. `EN`.",
    )
    conservation_status_detail = ConservationStatusSerializer(
        source="conservation_status", read_only=True
    )
    images = SpeciesImageSerializer(many=True, read_only=True)

    class Meta:
        model = Species
        fields = (
            "id",
            *services.SPECIES_FIELDS,
            "conservation_status_detail",
            "images",
        )
        extra_kwargs = {"typical_length_cm": {"min_value": Decimal("0.1")}}


def species_rows_representation(
    rows: list[tuple[Any, ...]], images: dict[int, list[tuple[Any, ...]]], request: Any
) -> list[dict[str, Any]]:
    """``SpeciesSerializer``'s output for a page of plain rows (the fast read path of the
    catalogue; a test keeps the two identical). Rows come as tuples in the order of
    ``selectors.SPECIES_ROW_FIELDS`` and ``SPECIES_IMAGE_ROW_FIELDS``. Building the dicts
    directly is several times faster than the serializer's field-by-field machinery."""
    image_url = media_url_builder(request)
    page = []
    for (
        species_id,
        common_name_es,
        common_name_en,
        scientific_name,
        taxon_class,
        taxon_order,
        family,
        aphia_id,
        status_code,
        status_name_es,
        status_name_en,
        status_rank,
        cites_appendix,
        description_es,
        description_en,
        diet,
        natural_habitat,
        typical_length_cm,
        typical_lifespan_years,
        is_public,
    ) in rows:
        page.append(
            {
                "id": species_id,
                "common_name_es": common_name_es,
                "common_name_en": common_name_en,
                "scientific_name": scientific_name,
                "taxon_class": taxon_class,
                "taxon_order": taxon_order,
                "family": family,
                "aphia_id": aphia_id,
                "conservation_status": status_code,
                "conservation_status_detail": {
                    "code": status_code,
                    "name_es": status_name_es,
                    "name_en": status_name_en,
                    "rank": status_rank,
                },
                "cites_appendix": cites_appendix,
                "description_es": description_es,
                "description_en": description_en,
                "diet": diet,
                "natural_habitat": natural_habitat,
                "typical_length_cm": None if typical_length_cm is None else str(typical_length_cm),
                "typical_lifespan_years": typical_lifespan_years,
                "is_public": is_public,
                "images": [
                    {
                        "id": image_id,
                        "url": image_url(path) if path else None,
                        "width": width,
                        "height": height,
                        "alt_text_es": alt_text_es,
                        "alt_text_en": alt_text_en,
                        "credit": credit,
                        "display_order": display_order,
                    }
                    for (
                        image_id,
                        _species_id,
                        path,
                        width,
                        height,
                        alt_text_es,
                        alt_text_en,
                        credit,
                        display_order,
                    ) in images.get(species_id, [])
                ],
            }
        )
    return page


class SpeciesBriefSerializer(serializers.ModelSerializer):
    conservation_status = serializers.CharField(source="conservation_status.code", read_only=True)

    class Meta:
        model = Species
        fields = (
            "id",
            "common_name_es",
            "common_name_en",
            "scientific_name",
            "conservation_status",
        )


class SpeciesImageInput(InputSerializer):
    image = serializers.ImageField(help_text="JPEG, PNG or WebP; checked by content.")
    alt_text_es = serializers.CharField(max_length=255)
    alt_text_en = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    credit = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class AnimalPublicSerializer(serializers.ModelSerializer):
    """What visitors see: no transponder, no medical data, no internal notes."""

    species = SpeciesBriefSerializer(read_only=True)
    current_habitat = HabitatBriefSerializer(
        read_only=True,
        allow_null=True,
        help_text="`null` once released, transferred out or deceased.",
    )

    class Meta:
        model = Animal
        fields = (
            "id",
            "institutional_id",
            "house_name",
            "species",
            "sex",
            "hatch_date",
            "status",
            "current_habitat",
        )
        read_only_fields = fields


class AnimalSerializer(ModelSerializer):
    """The full record, for the staff who keep the collection."""

    species_detail = SpeciesBriefSerializer(source="species", read_only=True)
    current_habitat = HabitatBriefSerializer(
        read_only=True,
        allow_null=True,
        help_text="`null` once released, transferred out or deceased.",
    )

    class Meta:
        model = Animal
        fields = (
            "id",
            "institutional_id",
            "house_name",
            "transponder_id",
            "species",
            "species_detail",
            "sex",
            "hatch_date",
            "hatch_date_estimated",
            "origin",
            "status",
            "status_date",
            "current_habitat",
            "release_place",
            "is_public",
        )
        read_only_fields = ("status", "status_date", "release_place")


class AnimalCreateInput(InputSerializer):
    institutional_id = serializers.CharField(
        max_length=32, validators=Animal._meta.get_field("institutional_id").validators
    )
    house_name = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    transponder_id = serializers.CharField(
        max_length=40, required=False, allow_blank=True, default=""
    )
    species = serializers.PrimaryKeyRelatedField(queryset=Species.objects.all())
    sex = serializers.ChoiceField(Sex.choices, required=False, default="unknown")
    hatch_date = serializers.DateField(required=False, allow_null=True, default=None)
    hatch_date_estimated = serializers.BooleanField(required=False, default=False)
    origin = serializers.ChoiceField(Origin.choices)
    is_public = serializers.BooleanField(required=False, default=True)
    habitat = serializers.PrimaryKeyRelatedField(
        queryset=Habitat.objects.all(), help_text="Where it arrives."
    )
    arrived_at = DateTimeField(required=False)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class AnimalUpdateInput(InputSerializer):
    """Descriptive fields; the habitat and status change through move, release and status."""

    house_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    transponder_id = serializers.CharField(max_length=40, required=False, allow_blank=True)
    sex = serializers.ChoiceField(Sex.choices, required=False)
    hatch_date = serializers.DateField(required=False, allow_null=True)
    hatch_date_estimated = serializers.BooleanField(required=False)
    is_public = serializers.BooleanField(required=False)


class MoveInput(InputSerializer):
    habitat = serializers.PrimaryKeyRelatedField(queryset=Habitat.objects.all())
    reason = serializers.CharField(max_length=255)
    moved_at = DateTimeField(required=False)


class ReleaseInput(InputSerializer):
    released_on = serializers.DateField()
    place = serializers.CharField(
        max_length=255, help_text="Where, e.g. “Playa Ostional, Guanacaste”."
    )
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class StatusInput(InputSerializer):
    status = serializers.ChoiceField([AnimalStatus.TRANSFERRED_OUT, AnimalStatus.DECEASED])
    status_date = serializers.DateField()
    reason = serializers.CharField(max_length=255)


class LocationSerializer(ModelSerializer):
    habitat = HabitatBriefSerializer(
        read_only=True,
        allow_null=True,
        help_text="`null` when the animal left the park (release, transfer, death).",
    )
    moved_by = serializers.EmailField(source="moved_by.email", read_only=True)

    class Meta:
        model = AnimalLocation
        fields = ("id", "habitat", "moved_at", "reason", "moved_by")


class WeightSerializer(ModelSerializer):
    recorded_by = serializers.EmailField(source="recorded_by.email", read_only=True)

    class Meta:
        model = Weight
        fields = ("id", "weighed_at", "weight_kg", "recorded_by", "notes")


class WeightInput(InputSerializer):
    weight_kg = serializers.DecimalField(max_digits=9, decimal_places=3, min_value=Decimal("0.001"))
    weighed_at = DateTimeField(required=False)
    notes = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class MedicalRecordSerializer(ModelSerializer):
    veterinarian = serializers.EmailField(source="veterinarian.email", read_only=True)

    class Meta:
        model = MedicalRecord
        fields = ("id", "animal", *services.MEDICAL_RECORD_FIELDS, "veterinarian")


class CensusRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    count = serializers.IntegerField()


class CensusSerializer(serializers.Serializer):
    by = serializers.ChoiceField(["species", "habitat", "section", "status"])
    total = serializers.IntegerField()
    results = CensusRowSerializer(many=True)
