"""Background work of the invoicing module: issuing, and the sweep that recovers lost tasks."""

from typing import Any

from celery import shared_task
from django.db import OperationalError

from apps.support.common.errors import ConflictError
from apps.support.common.locking import BUSY, is_lock_failure

from . import services

RETRIES = 8


def _is_busy(error: Exception) -> bool:
    """A lock not had within LOCK_TIMEOUT_SECONDS (many documents issued at once)."""
    if isinstance(error, ConflictError):
        return error.code == BUSY
    return isinstance(error, OperationalError) and is_lock_failure(error)


@shared_task(name="invoicing.issue_invoice", bind=True, max_retries=RETRIES)
def issue_invoice(self: Any, order_id: int) -> str:
    """Issue the invoice of a paid order (queued when the payment commits). Returns its
    number; an order that has one already keeps it."""
    try:
        return services.invoice_issue(order_id=order_id).number
    except (ConflictError, OperationalError) as error:
        if not _is_busy(error):
            raise
        raise self.retry(exc=error, countdown=2**self.request.retries) from error


@shared_task(name="invoicing.issue_credit_note", bind=True, max_retries=RETRIES)
def issue_credit_note(self: Any, refund_id: int) -> str:
    """Issue the credit note of a succeeded refund (queued when the refund commits). Returns
    its number, or "" when the refunded payment never paid for the order."""
    try:
        credit_note = services.credit_note_issue(refund_id=refund_id)
    except (ConflictError, OperationalError) as error:
        if not _is_busy(error):
            raise
        raise self.retry(exc=error, countdown=2**self.request.retries) from error
    return credit_note.number if credit_note is not None else ""


@shared_task(name="invoicing.issue_missing")
def issue_missing() -> dict[str, int]:
    """Issue what lost tasks left undone. Schedule it every few minutes (Celery beat or cron:
    ``manage.py invoices_issue_missing``)."""
    run = services.invoices_issue_missing()
    return {"invoices": run.invoices, "credit_notes": run.credit_notes, "skipped": run.skipped}
