"""Background work of the tickets module."""

import logging
from smtplib import SMTPException

from celery import Task, shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.business.payments.models import Order, OrderStatus
from apps.support.common.deliveries import DeliveryInProgress, send_once

from .models import Ticket, TicketStatus
from .rendering import tickets_pdf
from .signing import ticket_code

logger = logging.getLogger(__name__)


@shared_task(
    name="tickets.send_order_tickets",
    bind=True,
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def send_order_tickets(self: Task, order_id: int) -> int:
    """Email a paid order's tickets (codes in the text, printable PDF attached), once.

    Enqueued on commit by the ticket handler when the order is paid; reads the order afresh,
    so a retry sends the current tickets and a cancelled order sends nothing. Run twice, or
    delivered again after its worker died, it sends the email once (``send_once``).
    """
    order = Order.objects.filter(pk=order_id, status=OrderStatus.PAID).first()
    if order is None or not order.email:
        return 0
    tickets = list(
        Ticket.objects.filter(order=order, status=TicketStatus.VALID)
        .select_related("slot", "ticket_type", "order")
        .order_by("slot__starts_at", "id")
    )
    if not tickets:
        return 0
    lines = [
        f"- {ticket.ticket_type.name}, "
        f"{timezone.localtime(ticket.slot.starts_at):%Y-%m-%d %H:%M}: {ticket_code(ticket.secret)}"
        for ticket in tickets
    ]
    body = "\n".join(
        [
            _("Thank you for your purchase. Order %(code)s, total %(total)s %(currency)s.")
            % {"code": order.code, "total": order.total, "currency": order.currency},
            "",
            _("Your tickets (show the QR codes of the attached PDF at the entrance):"),
            *lines,
            "",
            _("Each ticket admits one person once, on its day and entry time."),
        ]
    )
    message = EmailMessage(
        subject=_("Your Parque Marino tickets — order %(code)s") % {"code": order.code},
        body=body,
        to=[order.email],
        from_email=settings.DEFAULT_FROM_EMAIL,
    )
    message.attach(f"parque-marino-{order.code}.pdf", tickets_pdf(tickets), "application/pdf")
    try:
        sent = send_once(f"tickets.order.{order.pk}", message)
    except DeliveryInProgress as busy:
        # Another worker is sending it, or died doing so: look again when its claim ends.
        raise self.retry(countdown=busy.retry_after) from busy
    if sent:
        logger.info("Sent the tickets of order %s (%d tickets)", order.code, len(tickets))
    return sent


@shared_task(name="tickets.generate_slots")
def generate_slots(days: int = 60) -> int:
    """Daily: the slots of the coming ``days`` days from the opening schedules (idempotent,
    as ``tickets_generate_slots``); returns how many were new."""
    from .services import slots_generate

    return slots_generate(start=timezone.localdate(), days=days)
