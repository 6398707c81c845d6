"""A gate admitting a ticket while the ticket office cancels (and refunds) its order.

One deterministic interleaving on PostgreSQL, two threads with a connection each: the
check-in is paused inside its transaction right after it read the ticket; the cancellation
starts and either finishes (no lock stops it) or waits on the ticket's row lock; then the
check-in goes on. With the check-in's row lock the gate wins and the cancellation is refused
(``tickets_already_used``); never are both the visitor admitted and the money given back.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone

from apps.business.payments import services as payments
from apps.business.payments.models import OrderStatus, PaymentStatus, Refund
from apps.business.tickets import services as tickets
from apps.business.tickets.models import CheckIn, TicketStatus
from apps.business.tickets.signing import ticket_code
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import staff_member
from tests.race import another_transaction_waits_for_a_lock, lock_waits_bounded_by
from tests.sales import paid_order

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PAUSE_LIMIT = 15.0  # seconds any step may wait before the test gives up (never hangs)


class PausedClock:
    """Stands in for ``django.utils.timezone`` in the tickets services: ``now()`` is the first
    thing ``ticket_check_in`` calls after it read the ticket, so the check-in stops there,
    inside its transaction, until ``go`` is set."""

    def __init__(self) -> None:
        self.ticket_read = threading.Event()
        self.go = threading.Event()

    def now(self):
        self.ticket_read.set()
        if not self.go.wait(timeout=PAUSE_LIMIT):
            raise TimeoutError("the check-in was never let go")
        return timezone.now()

    def __getattr__(self, name):
        return getattr(timezone, name)


def test_a_check_in_and_a_cancellation_at_once_never_both_admit_and_refund(monkeypatch):
    ticket_type = TicketTypeFactory(price=Decimal("2900.00"))
    order = paid_order(UserFactory(), TimeSlotFactory(), ticket_type, 1)
    ticket = order.tickets.get()
    gate_user, office = staff_member(Role.GATE_STAFF), staff_member(Role.TICKET_OFFICE)
    clock = PausedClock()
    monkeypatch.setattr(tickets, "timezone", clock)

    def admit():
        try:
            tickets.ticket_check_in(code=ticket_code(ticket.secret), gate="Norte", actor=gate_user)
            return "admitted"
        except ConflictError as error:
            return error.code
        finally:
            connections.close_all()

    def cancel():
        try:
            # The wait on the ticket's lock outlasts LOCK_TIMEOUT_SECONDS on a loaded machine;
            # this test is about who wins, not about the timeout (bounded by PAUSE_LIMIT).
            lock_waits_bounded_by(PAUSE_LIMIT)
            payments.order_cancel(order=order, actor=office, reason="visitor called")
            return "cancelled"
        except ConflictError as error:
            return error.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            gate = pool.submit(admit)
            assert clock.ticket_read.wait(timeout=PAUSE_LIMIT), "the check-in never read the ticket"
            cancelling = pool.submit(cancel)
            deadline = time.monotonic() + PAUSE_LIMIT
            while not cancelling.done() and not another_transaction_waits_for_a_lock():
                assert time.monotonic() < deadline, "the cancellation neither ended nor waited"
                time.sleep(0.01)
            cancellation_waited = not cancelling.done()
        finally:
            clock.go.set()
        outcome = (gate.result(timeout=PAUSE_LIMIT), cancelling.result(timeout=PAUSE_LIMIT))

    assert outcome != ("admitted", "cancelled"), "admitted at the gate and refunded at once"
    # The exact pair: the gate (which had the ticket's lock first) admits; the cancellation,
    # having waited for it, finds the ticket used and refuses. Nothing is refunded.
    assert (outcome, cancellation_waited) == (("admitted", "tickets_already_used"), True)
    order.refresh_from_db()
    ticket.refresh_from_db()
    assert (order.status, order.payments.get().status, ticket.status) == (
        OrderStatus.PAID,
        PaymentStatus.SUCCEEDED,
        TicketStatus.VALID,
    )
    assert Refund.objects.count() == 0
    assert list(CheckIn.objects.values_list("ticket_id", "gate")) == [(ticket.pk, "Norte")]
