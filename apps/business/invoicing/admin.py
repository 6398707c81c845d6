from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from apps.support.common.admin import RecordAdmin

from .models import Invoice, InvoiceCounter
from .rendering import invoice_pdf


@admin.register(Invoice)
class InvoiceAdmin(RecordAdmin):
    """Invoices and credit notes are issued by the invoicing services, never here; they are
    never changed or deleted."""

    list_display = (
        "number",
        "kind",
        "order",
        "buyer_name",
        "buyer_email",
        "total",
        "currency",
        "issued_at",
        "pdf_link",
    )
    list_filter = ("kind", "series", "year", "issued_at")
    search_fields = ("number", "order__code", "buyer_email", "order__email")
    list_select_related = ("order", "refers_to")
    date_hierarchy = "issued_at"
    readonly_fields = ("pdf_link",)

    @admin.display(description=_("PDF"))
    def pdf_link(self, invoice: Invoice) -> str:
        url = reverse("admin:invoicing_invoice_pdf", args=[invoice.pk])
        return format_html('<a href="{}">{}</a>', url, invoice.number)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:invoice_id>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="invoicing_invoice_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request: HttpRequest, invoice_id: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(
            Invoice.objects.select_related("order", "refers_to"), pk=invoice_id
        )
        response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
        return response


@admin.register(InvoiceCounter)
class InvoiceCounterAdmin(RecordAdmin):
    """The last number of each series and year; changed only by issuing."""

    list_display = ("series", "year", "last")
    list_filter = ("series", "year")
    search_fields = ("series",)
