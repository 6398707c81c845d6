from decimal import Decimal

from rest_framework import serializers

from api.serializers import DateTimeField, InputSerializer, ModelSerializer
from apps.business.infrastructure import services
from apps.business.infrastructure.models import (
    Habitat,
    Section,
    WaterAlert,
    WaterParameter,
    WaterReading,
    WaterTargetRange,
)

# Physically possible values: anything outside is a typing error, not a reading.
PARAMETER_BOUNDS = {
    "temperature": (Decimal("-5"), Decimal("50")),
    "salinity": (Decimal("0"), Decimal("80")),
    "ph": (Decimal("0"), Decimal("14")),
    "dissolved_oxygen": (Decimal("0"), Decimal("50")),
    "ammonia": (Decimal("0"), Decimal("100")),
    "nitrite": (Decimal("0"), Decimal("100")),
    "nitrate": (Decimal("0"), Decimal("1000")),
}


def measurement(parameter: str) -> serializers.DecimalField:
    low, high = PARAMETER_BOUNDS[parameter]
    return serializers.DecimalField(
        max_digits=7,
        decimal_places=3,
        min_value=low,
        max_value=high,
        required=False,
        allow_null=True,
    )


class SectionSerializer(ModelSerializer):
    class Meta:
        model = Section
        fields = ("id", *services.SECTION_FIELDS)


class SectionBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Section
        fields = ("id", "name_es", "name_en")


class WaterTargetRangeSerializer(ModelSerializer):
    class Meta:
        model = WaterTargetRange
        fields = ("id", "habitat", "parameter", "minimum", "maximum")


class HabitatSerializer(ModelSerializer):
    section_detail = SectionBriefSerializer(source="section", read_only=True)
    occupancy = serializers.IntegerField(read_only=True, help_text="Animals living here now.")
    water_ranges = WaterTargetRangeSerializer(many=True, read_only=True)

    class Meta:
        model = Habitat
        fields = (
            "id",
            "name",
            "section",
            "section_detail",
            "kind",
            "water_type",
            "volume_litres",
            "capacity",
            "occupancy",
            "is_public",
            "description",
            "water_ranges",
        )


class HabitatBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Habitat
        fields = ("id", "name", "kind")


class WaterRangeInput(InputSerializer):
    habitat = serializers.PrimaryKeyRelatedField(queryset=Habitat.objects.all())
    parameter = serializers.ChoiceField(WaterParameter.choices)
    minimum = serializers.DecimalField(
        max_digits=7, decimal_places=3, min_value=Decimal("-5"), max_value=Decimal("1000")
    )
    maximum = serializers.DecimalField(
        max_digits=7, decimal_places=3, min_value=Decimal("-5"), max_value=Decimal("1000")
    )


class WaterReadingSerializer(ModelSerializer):
    taken_by = serializers.EmailField(source="taken_by.email", read_only=True)

    class Meta:
        model = WaterReading
        fields = (
            "id",
            "habitat",
            "taken_at",
            "taken_by",
            *WaterParameter.values,
            "out_of_range",
            "notes",
        )


class WaterReadingInput(InputSerializer):
    habitat = serializers.PrimaryKeyRelatedField(queryset=Habitat.objects.all())
    taken_at = DateTimeField()
    temperature = measurement("temperature")
    salinity = measurement("salinity")
    ph = measurement("ph")
    dissolved_oxygen = measurement("dissolved_oxygen")
    ammonia = measurement("ammonia")
    nitrite = measurement("nitrite")
    nitrate = measurement("nitrate")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class WaterAlertSerializer(ModelSerializer):
    habitat_detail = HabitatBriefSerializer(source="habitat", read_only=True)

    class Meta:
        model = WaterAlert
        fields = (
            "id",
            "habitat",
            "habitat_detail",
            "parameter",
            "direction",
            "last_value",
            "opened_at",
            "opened_by_reading",
            "last_reading",
            "closed_at",
            "closed_by_reading",
        )


class WaterSeriesPointSerializer(serializers.Serializer):
    taken_at = DateTimeField()
    value = serializers.DecimalField(max_digits=7, decimal_places=3)
    flag = serializers.ChoiceField(choices=["", "low", "high"], help_text="Out of range: low/high.")


class WaterSeriesSerializer(serializers.Serializer):
    habitat = serializers.IntegerField()
    parameter = serializers.ChoiceField(WaterParameter.choices)
    unit = serializers.CharField()
    minimum = serializers.DecimalField(max_digits=7, decimal_places=3, allow_null=True)
    maximum = serializers.DecimalField(max_digits=7, decimal_places=3, allow_null=True)
    points = WaterSeriesPointSerializer(many=True)


class WaterSeriesQuery(serializers.Serializer):
    """``?parameter=ph&from=2026-11-01T00:00:00-06:00&to=...``"""

    parameter = serializers.ChoiceField(WaterParameter.choices)
    # Bounds of a query, not moments the park records: any date-time will do.
    locals()["from"] = serializers.DateTimeField(required=False, help_text="From (inclusive).")
    locals()["to"] = serializers.DateTimeField(required=False, help_text="To (exclusive).")
