"""/api/v1/payments/invoices/: invoices and credit notes, their PDFs, the accountant's CSV.

Issued by the system (when an order is paid, when a refund succeeds), never through the API:
read-only, never changed or deleted.
"""

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from api.ownership import OwnedObjectsMixin
from api.permissions import role_permission
from api.renderers import CSVRenderer, PDFRenderer
from api.viewsets import CatalogReadViewSet
from apps.business.invoicing import selectors
from apps.business.invoicing.exports import invoices_csv
from apps.business.invoicing.rendering import invoice_pdf
from apps.support.security.roles import INVOICE_STAFF

from .filters import InvoiceFilter
from .serializers import InvoiceSerializer


class InvoiceViewSet(OwnedObjectsMixin, CatalogReadViewSet):
    """Invoices and credit notes: those of a visitor's own orders; all of them for finance
    and auditors. Newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = InvoiceSerializer
    selector = selectors.invoice_list
    filterset_class = InvoiceFilter
    search_fields = ("number", "order__code", "buyer_name", "buyer_email")
    ordering_fields = ("issued_at", "total")
    owner_field = "order__user"
    owner_staff_roles = INVOICE_STAFF

    @extend_schema(
        operation_id="payments_invoices_pdf",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The printable document (A4)."
            )
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def pdf(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The document as printed: the same bytes every time it is asked for."""
        invoice = self.get_object()
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response

    @extend_schema(
        operation_id="payments_invoices_export",
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description=(
                    "One row per document, oldest first: number, kind, refers_to, order, "
                    "issued_at, buyer, buyer_email, buyer_tax_id, currency, net, tax, total."
                ),
            )
        },
    )
    @action(
        detail=False,
        methods=["get"],
        renderer_classes=[JSONRenderer, CSVRenderer],
        permission_classes=[role_permission(read=INVOICE_STAFF)],
    )
    def export(self, request: Request) -> StreamingHttpResponse:
        """The filtered documents as CSV, for the accountant (finance and auditors)."""
        invoices = self.filter_queryset(self.get_queryset()).order_by("issued_at", "id")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(
            invoices_csv(invoices), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="invoices-{stamp}.csv"'
        return response
