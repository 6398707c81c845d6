"""/api/v1/audit/: the audit trail, for auditors and administrators. Read-only."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from api.permissions import role_permission
from api.renderers import CSVRenderer
from api.viewsets import CatalogReadViewSet
from apps.support.audit import selectors
from apps.support.audit import services as audit
from apps.support.audit.exports import audit_events_csv
from apps.support.security.roles import Role

from .filters import AuditEventFilter
from .serializers import AuditEventSerializer


class AuditEventViewSet(CatalogReadViewSet):
    """Who did what, when, from where. Entries are never changed or deleted."""

    permission_classes = [role_permission(read=[Role.AUDITOR])]
    selector = selectors.audit_event_list
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    search_fields = ("action", "actor_label", "target_id", "request_id")
    ordering_fields = ("sequence", "occurred_at")

    @extend_schema(
        operation_id="audit_events_export",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="The filtered entries as CSV, oldest first."
            )
        },
    )
    @action(detail=False, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer])
    def export(self, request: Request) -> StreamingHttpResponse:
        """The filtered entries as CSV. The export itself is recorded in the trail."""
        events = self.filter_queryset(self.get_queryset()).order_by("sequence")
        known = {*AuditEventFilter.base_filters, "search", "ordering"}
        filters = {key: value for key, value in request.query_params.items() if key in known}
        audit.record(
            action="audit.events.exported",
            metadata={"filters": filters, "count": events.count()},
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(
            audit_events_csv(events), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response
