"""Background work of the payments module."""

from celery import shared_task

from apps.support.common.idempotency import idempotency_keys_prune

from .services import orders_expire, webhook_events_retry_due


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
