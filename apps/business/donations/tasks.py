"""Background work of the donations module: receipts after payment, a note after a refund.

Each task reads the donation afresh, so a retry sends what is true now: a receipt only for a
gift still paid and not receipted yet, a note only for one given back.
"""

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Donation, DonationStatus
from .receipts import receipt_pdf

logger = logging.getLogger(__name__)


def _campaign(donation: Donation) -> str:
    if donation.campaign is None:
        return str(_("the park's general fund"))
    return donation.campaign.title


@shared_task(
    name="donations.send_receipts",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def send_receipts(order_id: int) -> int:
    """Email the receipt (PDF attached) of each paid gift of the order not receipted yet."""
    sent = 0
    donations = Donation.objects.filter(
        order_id=order_id, status=DonationStatus.PAID, receipt_sent_at__isnull=True
    ).select_related("campaign", "order")
    for donation in donations.order_by("pk"):
        if not donation.email:
            continue
        message = EmailMessage(
            subject=_("Thank you for your donation — receipt %(number)s")
            % {"number": donation.receipt_number},
            body="\n".join(
                [
                    _("Thank you for your donation of %(amount)s %(currency)s to %(campaign)s.")
                    % {
                        "amount": donation.amount,
                        "currency": donation.currency,
                        "campaign": _campaign(donation),
                    },
                    "",
                    _("Your receipt %(number)s is attached (order %(code)s).")
                    % {"number": donation.receipt_number, "code": donation.order.code},
                ]
            ),
            to=[donation.email],
            from_email=settings.DEFAULT_FROM_EMAIL,
        )
        message.attach(f"{donation.receipt_number}.pdf", receipt_pdf(donation), "application/pdf")
        message.send()
        # Marked after sending: a crash between the two sends it again, never not at all.
        Donation.objects.filter(pk=donation.pk, receipt_sent_at__isnull=True).update(
            receipt_sent_at=timezone.now()
        )
        sent += 1
    if sent:
        logger.info("Sent %d donation receipts of order %s", sent, order_id)
    return sent


@shared_task(
    name="donations.send_refund_note",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def send_refund_note(donation_id: int) -> int:
    """Tell the donor their gift was given back and its receipt no longer holds."""
    donation = (
        Donation.objects.filter(pk=donation_id, refunded_at__isnull=False)
        .select_related("campaign")
        .first()
    )
    if donation is None or not donation.email:
        return 0
    message = EmailMessage(
        subject=_("Your donation %(number)s was refunded") % {"number": donation.receipt_number},
        body=_(
            "We have given back your donation of %(amount)s %(currency)s to %(campaign)s. "
            "Its receipt %(number)s is void and should not be used for tax purposes."
        )
        % {
            "amount": donation.amount,
            "currency": donation.currency,
            "campaign": _campaign(donation),
            "number": donation.receipt_number,
        },
        to=[donation.email],
        from_email=settings.DEFAULT_FROM_EMAIL,
    )
    return message.send()
