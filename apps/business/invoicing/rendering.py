"""The printable PDF of an invoice or credit note, made from what the document stored.

Nothing is read but the document itself: not the order, the user or today's settings. It is
printed in the park's language (``LANGUAGE_CODE``) whoever asks, and the PDF's creation date
is the issue time, so printing it again gives the same bytes (with the same version of the
software and of fpdf2, whose name and version the file carries).

fpdf2's built-in Helvetica writes Latin-1: Spanish accents print; other characters become
"?", a few typographic ones their ASCII look-alikes, and the colón sign "CRC".
"""

from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from apps.support.common.pdf import latin1 as _latin1

from .models import Invoice, InvoiceKind
from .tax import DocumentLine


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _percent(rate: Decimal) -> str:
    """0.1300 -> "13", 0.0250 -> "2.5"."""
    text = f"{rate * 100:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def invoice_pdf(invoice: Invoice) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):
        return _render(invoice)


def _render(invoice: Invoice) -> bytes:
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(invoice.issued_at)
    pdf.set_title(_latin1(invoice.number))
    pdf.set_author(_latin1(invoice.seller_legal_name))
    pdf.set_creator("Parque Marino")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    def line(text: str, *, size: int = 10, style: str = "", align: str = "L") -> None:
        pdf.set_font("Helvetica", style, size)
        # Wrapped: a long name or address stays on the page.
        pdf.multi_cell(0, size * 0.5, _latin1(text), new_x="LMARGIN", new_y="NEXT", align=align)

    title = (_("Credit note") if invoice.kind == InvoiceKind.CREDIT_NOTE else _("Invoice")).upper()
    line(title, size=16, style="B", align="R")
    line(invoice.number, size=12, style="B", align="R")
    issued = timezone.localtime(invoice.issued_at)
    line(_("Issued %(date)s") % {"date": f"{issued:%Y-%m-%d %H:%M}"}, align="R")
    line(_("Order %(code)s") % {"code": invoice.order.code}, align="R")
    if invoice.refers_to is not None:
        line(_("Corrects invoice %(number)s") % {"number": invoice.refers_to.number}, align="R")

    pdf.ln(4)
    line(invoice.seller_legal_name, size=12, style="B")
    line(_("Tax id: %(tax_id)s") % {"tax_id": invoice.seller_tax_id})
    line(invoice.seller_address)
    line(invoice.seller_email)

    pdf.ln(4)
    line(_("Buyer"), style="B")
    line(invoice.buyer_name or _("Final consumer"))
    if invoice.buyer_email:
        line(invoice.buyer_email)
    if invoice.buyer_tax_id:
        line(_("Tax id: %(tax_id)s") % {"tax_id": invoice.buyer_tax_id})

    pdf.ln(4)
    pdf.set_font("Helvetica", "", 9)
    right = "RIGHT"
    with pdf.table(
        col_widths=(86, 14, 30, 30, 30),
        text_align=("LEFT", right, right, right, right),
        headings_style=FontFace(emphasis="BOLD"),
        line_height=5,
    ) as table:
        headings = (_("Description"), _("Qty"), _("Unit price"), _("Tax"), _("Total"))
        table.row([_latin1(heading) for heading in headings])
        for stored in invoice.lines:
            item = DocumentLine.from_json(stored)
            table.row(
                [
                    _latin1(item.description),
                    str(item.quantity),
                    _money(item.unit_price),
                    _money(item.tax),
                    _money(item.total),
                ]
            )

    pdf.ln(3)
    rate = _percent(invoice.tax_rate)
    for label, amount, style in (
        (_("Net"), invoice.net, ""),
        (_("VAT %(rate)s %%") % {"rate": rate}, invoice.tax, ""),
        (_("Total %(currency)s") % {"currency": invoice.currency}, invoice.total, "B"),
    ):
        pdf.set_font("Helvetica", style, 10)
        pdf.cell(160, 6, _latin1(label), align="R")
        pdf.cell(30, 6, _money(amount), new_x="LMARGIN", new_y="NEXT", align="R")

    pdf.ln(4)
    line(_("Prices include VAT at %(rate)s %%.") % {"rate": rate}, size=8)
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        line(_("The amounts of this credit note are given back to the buyer."), size=8)
    return bytes(pdf.output())
