"""What a visitor carries: the QR image of a ticket and the printable PDF of an order's tickets.

QR codes by segno (PNG or SVG, error correction M, so a creased print still scans); PDFs by
fpdf2 with its built-in Helvetica (Latin-1: Spanish accents print, the colón sign is written
"CRC"). Both are made on request from the ticket's code; nothing is stored (docs/adr/0016).
"""

import io
from collections.abc import Sequence

import segno
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from .models import Ticket
from .signing import ticket_code


def qr_png(code: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(code: str, *, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    segno.make(code, error="m", micro=False).save(
        buffer, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True
    )
    return buffer.getvalue()


def _latin1(text: str) -> str:
    return text.replace("—", "-").encode("latin-1", errors="replace").decode("latin-1")


def tickets_pdf(tickets: Sequence[Ticket]) -> bytes:
    """One A6 page per ticket: the park, the visit's date and entry time, type, order, QR."""
    pdf = FPDF(orientation="P", unit="mm", format=(105, 148))  # A6
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(_latin1(_("Parque Marino tickets")))
    pdf.set_creator("Parque Marino")
    for ticket in tickets:
        starts = timezone.localtime(ticket.slot.starts_at)
        ends = timezone.localtime(ticket.slot.ends_at)
        code = ticket_code(ticket.secret)
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 9, "Parque Marino", new_x="LMARGIN", new_y="NEXT", align="C")
        pdf.set_font("Helvetica", "", 11)
        pdf.cell(0, 6, _latin1(ticket.ticket_type.name), new_x="LMARGIN", new_y="NEXT", align="C")
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 7, starts.strftime("%Y-%m-%d"), new_x="LMARGIN", new_y="NEXT", align="C")
        pdf.set_font("Helvetica", "", 11)
        pdf.cell(
            0,
            6,
            _latin1(
                _("Entry %(start)s-%(end)s") % {"start": f"{starts:%H:%M}", "end": f"{ends:%H:%M}"}
            ),
            new_x="LMARGIN",
            new_y="NEXT",
            align="C",
        )
        pdf.image(
            io.BytesIO(qr_png(code, scale=6)), x=(pdf.w - 60) / 2, y=pdf.get_y() + 2, w=60, h=60
        )
        pdf.set_y(pdf.get_y() + 64)
        pdf.set_font("Courier", "", 7)
        pdf.cell(0, 4, code, new_x="LMARGIN", new_y="NEXT", align="C")
        pdf.set_font("Helvetica", "", 8)
        pdf.cell(
            0,
            5,
            _latin1(
                _("Order %(code)s - %(price)s %(currency)s")
                % {
                    "code": ticket.order.code,
                    "price": ticket.price,
                    "currency": ticket.order.currency,
                }
            ),
            new_x="LMARGIN",
            new_y="NEXT",
            align="C",
        )
        pdf.multi_cell(
            0, 4, _latin1(_("Valid once, for one person, on this day and entry time.")), align="C"
        )
    return bytes(pdf.output())
