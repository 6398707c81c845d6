"""Writes shared by every module."""

from django.db import transaction

from .tasks import send_email


def email_send_on_commit(
    *,
    subject: str,
    body: str,
    to: list[str],
    html_body: str | None = None,
    reply_to: list[str] | None = None,
) -> None:
    """Queue an email that leaves only if the surrounding transaction commits."""
    transaction.on_commit(
        lambda: send_email.delay(
            subject=subject, body=body, to=to, html_body=html_body, reply_to=reply_to
        )
    )
