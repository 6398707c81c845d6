"""The expiry job never waits for an order somebody is working on (ADR 20)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from apps.business.payments import services as payments
from apps.business.payments.models import Order, OrderStatus
from tests.payments.test_orders_expire import LockHolder
from tests.race import lock_waits_bounded_by
from tests.sales import place_order, run_out_hold

pytestmark = pytest.mark.django_db


# --- 1. A lone surrogate in a JSON key or value: 500 on every JSON endpoint ---------------


@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_expiry_job_skips_an_order_in_use_without_waiting_for_its_lock(user, slot, adult):
    """Without SKIP LOCKED the job would wait for the lock, then skip the order after the lock
    timeout all the same: only waiting tells the two apart. Here the job may wait a minute
    for a lock, and the lock is held until the job has finished or 30 s have passed: the job
    must finish while the order is still locked (an order of events, not a speed)."""
    busy = place_order(user, slot, adult)
    run_out_hold(busy)
    finished = threading.Event()

    def expiry_job():
        try:
            lock_waits_bounded_by(60)
            return payments.orders_expire()
        finally:
            finished.set()
            connections.close_all()

    lock = lambda: list(Order.objects.select_for_update().filter(pk=busy.pk))  # noqa: E731
    with ThreadPoolExecutor(max_workers=1) as pool, LockHolder(lock):
        job = pool.submit(expiry_job)
        finished_while_locked = finished.wait(timeout=30)
    assert finished_while_locked is True
    assert job.result(timeout=90) == payments.ExpiryRun(expired=0, skipped=1)
    busy.refresh_from_db()
    assert busy.status == OrderStatus.PENDING
