"""The expiry job: never waits for a lock, never dies on one, never expires an order whose
payment is still being confirmed."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from apps.business.payments import services as payments
from apps.business.payments.models import Order, OrderStatus, Payment, PaymentStatus
from apps.business.payments.services import orders as order_services
from apps.business.tickets.models import Reservation, ReservationStatus
from apps.support.audit.models import AuditChainHead, AuditEvent
from tests.race import lock_waits_bounded_by
from tests.sales import place_order, run_out_hold

with_row_locks = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"
)


class LockHolder:
    """Another connection that holds row locks until released (like a slow payment)."""

    def __init__(self, lock) -> None:
        self._lock = lock
        self.locked = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self._lock()
                self.locked.set()
                self.release.wait(timeout=60)
        finally:
            connections.close_all()

    def __enter__(self) -> "LockHolder":
        self.thread.start()
        assert self.locked.wait(timeout=30)
        return self

    def __exit__(self, *exc_info) -> None:
        self.release.set()
        self.thread.join(timeout=30)


def expiry_output() -> str:
    output = io.StringIO()
    call_command("orders_expire", stdout=output)
    return output.getvalue()


@with_row_locks
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_order_in_use_is_skipped_at_once_and_expired_on_the_next_run(user, slot, adult):
    busy, idle = place_order(user, slot, adult), place_order(user, slot, adult)
    run_out_hold(busy)
    run_out_hold(idle)
    lock = lambda: list(Order.objects.select_for_update().filter(pk=busy.pk))  # noqa: E731

    with LockHolder(lock):
        # Before, the job waited LOCK_TIMEOUT_SECONDS for this order and died with `busy`,
        # leaving every later order unexpired too.
        assert payments.orders_expire() == payments.ExpiryRun(expired=1, skipped=1)
        busy.refresh_from_db()
        assert busy.status == OrderStatus.PENDING
        assert Reservation.objects.get(order=busy).status == ReservationStatus.HELD

    assert expiry_output() == (
        "1 orders expired, 0 skipped (in use, taken next run), 0 interrupted payments asked "
        "again, 0 idempotency keys pruned.\n"
    )
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.EXPIRED}
    assert AuditEvent.objects.filter(action="payments.order.expired").count() == 2


@with_row_locks
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_audit_chain_head_held_too_long_skips_the_order_instead_of_failing(
    user, slot, adult, monkeypatch
):
    order = place_order(user, slot, adult)
    run_out_hold(order)
    lock = lambda: list(AuditChainHead.objects.select_for_update())  # noqa: E731

    with LockHolder(lock):
        lock_waits_bounded_by(0.2)  # the job's lock waits, shortened for the test
        assert payments.orders_expire() == payments.ExpiryRun(expired=0, skipped=1)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert AuditEvent.objects.filter(action="payments.order.expired").count() == 0

    assert payments.orders_expire() == payments.ExpiryRun(expired=1, skipped=0)


@pytest.mark.django_db
def test_an_order_whose_payment_started_after_the_job_listed_it_stays_pending(
    user, slot, adult, monkeypatch
):
    """The payment is created between the job's listing and its lock (as a visitor paying at
    that moment would): the job must look again under the lock."""
    order = place_order(user, slot, adult)
    run_out_hold(order)
    lock_row_if_free = order_services.lock_row_if_free

    def a_payment_starts_first(queryset):
        Payment.objects.create(
            order=order, method="sandbox", amount=order.total, currency="CRC", created_by=user
        )
        return lock_row_if_free(queryset)

    monkeypatch.setattr(order_services, "lock_row_if_free", a_payment_starts_first)

    assert payments.orders_expire() == payments.ExpiryRun(expired=0, skipped=0)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert Reservation.objects.get(order=order).status == ReservationStatus.HELD
    assert list(order.payments.values_list("status", flat=True)) == [PaymentStatus.PENDING]


@pytest.mark.django_db
def test_an_order_with_a_payment_being_confirmed_is_not_expired(user, slot, adult):
    order = place_order(user, slot, adult)
    payments.order_pay(order=order, actor=user, method="sandbox", options={"outcome": "later"})
    run_out_hold(order)

    assert payments.orders_expire() == payments.ExpiryRun(expired=0, skipped=0)
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert AuditEvent.objects.filter(action="payments.order.expired").count() == 0
