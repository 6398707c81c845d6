"""Background work of the payments module."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from apps.support.common.idempotency import idempotency_keys_prune

from .services import (
    orders_expire,
    payments_resume_interrupted,
    refunds_resend_pending,
    statements_fetch,
    webhook_events_retry_due,
)


@shared_task(name="payments.expire_orders")
def expire_orders() -> dict[str, int]:
    """Record unpaid orders whose hold ran out as expired (housekeeping; seats were already
    free by time). Schedule it every few minutes with Celery beat or cron. Returns how many
    expired and how many were skipped because they were in use (taken next run)."""
    run = orders_expire()
    return {"expired": run.expired, "skipped": run.skipped}


@shared_task(name="payments.prune_idempotency_keys")
def prune_idempotency_keys() -> int:
    return idempotency_keys_prune()


@shared_task(name="payments.retry_webhook_events")
def retry_webhook_events() -> int:
    """Process again the failed webhook events whose backoff ran out (every minute or so with
    Celery beat). Returns how many were tried."""
    return webhook_events_retry_due()


@shared_task(name="payments.resend_pending_refunds")
def resend_pending_refunds() -> int:
    """Ask the gateways again, with the same idempotency keys, for refunds whose answer never
    came or could not be recorded (every few minutes with Celery beat)."""
    return refunds_resend_pending()


@shared_task(name="payments.resume_interrupted_payments")
def resume_interrupted_payments() -> int:
    """Settle payment attempts whose call died before it recorded the gateway's answer (every
    few minutes with Celery beat): failed where their start takes no money, else asked again
    under the same idempotency key (the buyer may have paid). Returns how many were taken."""
    return payments_resume_interrupted()


@shared_task(name="payments.fetch_statements")
def fetch_statements() -> dict[str, dict[str, str]]:
    """Fetch every enabled gateway's statement of yesterday and of today so far (the park's
    local days), once a day early in the morning with Celery beat: reconciliation compares
    them with the park's records. Returns each day's gateways and how their fetch went."""
    today = timezone.localdate()
    done: dict[str, dict[str, str]] = {}
    for day in (today - timedelta(days=1), today):
        fetched = statements_fetch(day=day)
        done[day.isoformat()] = {statement.gateway: statement.status for statement in fetched}
    return done
