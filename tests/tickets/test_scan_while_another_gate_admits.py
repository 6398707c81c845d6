"""A scan that waits for the ticket's lock while another gate admits the ticket.

The statement that locks the ticket also reads its check-in. On PostgreSQL it read the
check-ins as they were when it began, before it waited: the other gate's check-in, committed
meanwhile, is refused by the one-to-one constraint instead, and the answer still says when and
where the ticket was used. On MariaDB the ticket is locked first and the check-in read after.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from apps.business.tickets import services as tickets
from apps.business.tickets.models import CheckIn, Ticket
from apps.business.tickets.signing import ticket_code
from apps.support.audit.models import AuditEvent
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


def test_the_scan_that_waited_says_when_and_where_the_other_gate_admitted():
    ticket = paid_order(UserFactory(), TimeSlotFactory(), TicketTypeFactory(), 1).tickets.get()
    gate_user = staff_member(Role.GATE_STAFF)
    started = threading.Event()

    def scan():
        started.set()
        try:
            lock_waits_bounded_by(PAUSE_LIMIT)
            tickets.ticket_check_in(code=ticket_code(ticket.secret), gate="Sur", actor=gate_user)
            return "admitted", None
        except ConflictError as error:
            return error.code, error.details
        finally:
            connections.close_all()

    admitted_at = timezone.now().replace(microsecond=0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():  # the other gate: holds the ticket's lock, then admits it
            Ticket.objects.select_for_update().get(pk=ticket.pk)
            scanning = pool.submit(scan)
            assert started.wait(timeout=PAUSE_LIMIT)
            deadline = time.monotonic() + PAUSE_LIMIT
            while not another_transaction_waits_for_a_lock():
                assert not scanning.done(), scanning.result()
                assert time.monotonic() < deadline, "the scan never waited for the ticket"
                time.sleep(0.01)
            CheckIn.objects.create(
                ticket=ticket, gate="Norte", checked_in_at=admitted_at, checked_in_by=gate_user
            )
        outcome = scanning.result(timeout=PAUSE_LIMIT)

    assert outcome == (
        "already_checked_in",
        {"checked_in_at": timezone.localtime(admitted_at).isoformat(), "gate": "Norte"},
    )
    assert list(CheckIn.objects.values_list("ticket_id", "gate")) == [(ticket.pk, "Norte")]
    assert not AuditEvent.objects.filter(action="tickets.ticket.checked_in").exists()
