"""Background work of the payments module."""

from celery import shared_task

from apps.support.common.idempotency import idempotency_keys_prune

from .services import orders_expire


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
