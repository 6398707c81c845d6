"""Background work of the payments module."""

from celery import shared_task

from apps.support.common.idempotency import idempotency_keys_prune

from .services import orders_expire


@shared_task(name="payments.expire_orders")
def expire_orders() -> int:
    """Record unpaid orders whose hold ran out as expired (housekeeping; seats were already
    free by time). Schedule it every few minutes with Celery beat or cron."""
    return orders_expire()


@shared_task(name="payments.prune_idempotency_keys")
def prune_idempotency_keys() -> int:
    return idempotency_keys_prune()
