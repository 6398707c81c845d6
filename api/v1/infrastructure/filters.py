import django_filters

from api.filters import UtcIsoDateTimeFilter
from apps.business.infrastructure.models import Habitat, WaterAlert, WaterReading, WaterTargetRange


class HabitatFilter(django_filters.FilterSet):
    class Meta:
        model = Habitat
        fields = ("section", "kind", "water_type", "is_public")


class WaterTargetRangeFilter(django_filters.FilterSet):
    class Meta:
        model = WaterTargetRange
        fields = ("habitat", "parameter")


class WaterReadingFilter(django_filters.FilterSet):
    taken_after = UtcIsoDateTimeFilter(field_name="taken_at", lookup_expr="gte")
    taken_before = UtcIsoDateTimeFilter(field_name="taken_at", lookup_expr="lt")
    flagged = django_filters.BooleanFilter(
        method="filter_flagged", label="Only readings with a value out of range"
    )

    class Meta:
        model = WaterReading
        fields = ("habitat",)

    def filter_flagged(self, queryset, name, value):
        flagged = queryset.exclude(out_of_range={})
        return flagged if value else queryset.filter(out_of_range={})


class WaterAlertFilter(django_filters.FilterSet):
    class Meta:
        model = WaterAlert
        fields = ("habitat", "parameter", "direction")
