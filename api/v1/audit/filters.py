import django_filters

from api.filters import IntegerFilter, UtcIsoDateTimeFilter
from apps.support.audit.models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    actor = IntegerFilter(field_name="actor_id", label="Actor's user id")
    actor_label = django_filters.CharFilter(
        field_name="actor_label", lookup_expr="iexact", label="Actor's email, or system/anonymous"
    )
    action = django_filters.CharFilter(field_name="action", label="Exact action code")
    action_prefix = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", label="Action codes starting with this"
    )
    target_type = django_filters.CharFilter(label="`app_label.model`, e.g. `security.user`")
    target_id = django_filters.CharFilter()
    request_id = django_filters.CharFilter()
    occurred_after = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ()
