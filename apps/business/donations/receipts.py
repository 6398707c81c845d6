"""The donation receipt: a PDF made from what the donation stored, in the park's language.

It states the gift (amount, date, campaign, order), the donor as they gave their name and
email, and the park as it is configured (``SELLER_*``), and that nothing was given in
exchange. fpdf2's built-in Helvetica writes Latin-1 (see apps.support.common.pdf).
"""

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from apps.support.common.pdf import latin1

from .models import Donation


def receipt_pdf(donation: Donation) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):
        return _render(donation)


def _render(donation: Donation) -> bytes:
    paid_at = timezone.localtime(donation.paid_at or donation.created_at)
    pdf = FPDF(orientation="P", unit="mm", format=(148, 210))  # A5
    pdf.set_creation_date(donation.paid_at or donation.created_at)
    pdf.set_title(latin1(donation.receipt_number))
    pdf.set_author(latin1(settings.SELLER_LEGAL_NAME))
    pdf.set_creator("Parque Marino")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()

    def line(text: str, *, size: int = 10, style: str = "", align: str = "L") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT", align=align)

    line(_("Donation receipt").upper(), size=15, style="B", align="R")
    line(donation.receipt_number, size=12, style="B", align="R")
    line(_("Received %(date)s") % {"date": f"{paid_at:%Y-%m-%d %H:%M}"}, align="R")
    line(_("Order %(code)s") % {"code": donation.order.code}, align="R")
    pdf.ln(4)
    line(settings.SELLER_LEGAL_NAME, size=12, style="B")
    line(_("Tax id: %(tax_id)s") % {"tax_id": settings.SELLER_TAX_ID})
    line(settings.SELLER_ADDRESS)
    pdf.ln(4)
    line(_("Donor"), style="B")
    line(donation.donor_name or _("Not given"))
    if donation.email:
        line(donation.email)
    pdf.ln(4)
    line(_("Amount"), style="B")
    line(f"{donation.amount:,.2f} {donation.currency}", size=14, style="B")
    line(
        _("For the campaign %(campaign)s") % {"campaign": donation.campaign.title_es}
        if donation.campaign is not None
        else _("For the park's general fund")
    )
    pdf.ln(6)
    line(
        _(
            "We thank you for your gift. This receipt certifies a donation: no goods or services "
            "were given in exchange for it."
        ),
        size=9,
    )
    return bytes(pdf.output())
