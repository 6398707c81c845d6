"""Background tasks shared by every module."""

import logging
from smtplib import SMTPException

from celery import shared_task
from django.core.mail import EmailMultiAlternatives

logger = logging.getLogger(__name__)


@shared_task(
    name="common.send_email",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def send_email(
    *,
    subject: str,
    body: str,
    to: list[str],
    html_body: str | None = None,
    reply_to: list[str] | None = None,
) -> int:
    """Send one email; returns how many messages went out (0 or 1).

    Enqueue it with ``email_send_on_commit`` from a service, never inside an open transaction.
    """
    message = EmailMultiAlternatives(subject=subject, body=body, to=to, reply_to=reply_to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    sent = message.send()
    logger.info("Sent %d email(s) %r to %d recipient(s)", sent, subject, len(to))
    return sent
