"""No gateway call runs inside a transaction: while a refund waits for a slow gateway, the
park's other audited writes and the order itself are not held up.

The control runs the old order of things (the gateway called before the transaction that
wrote the audit entry commits) and shows the probe notices it.
"""

import threading
from collections.abc import Callable
from decimal import Decimal
from unittest.mock import patch

import pytest
from django.db import OperationalError, connection, connections, transaction

from apps.business.payments.models import Order, Refund, RefundScope, RefundStatus
from apps.business.payments.services import orders, refunds
from apps.integrations.payments import RefundOutcome, RefundResult
from apps.integrations.payments.sandbox import SandboxGateway
from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.helpers import staff_member
from tests.race import lock_waits_bounded_by
from tests.sales import paid_order

pytestmark = [
    pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WAIT = 120  # generous: a loaded machine only makes this slower


def blocked(write) -> bool:
    """True when ``write`` cannot get its locks within a second."""
    try:
        with transaction.atomic():
            lock_waits_bounded_by(1, transaction_only=True)
            write()
    except (OperationalError, ConflictError):
        return True
    return False


def old_refund_request(*, order, actor, amount, **_ignored):
    """The bug this guards against: the gateway asked while the transaction is open."""
    with transaction.atomic():
        order = refunds.lock_order(order.pk)
        refund = refunds.refund_open(
            payment=order.payments.get(),
            amount=amount,
            scope=RefundScope.AMOUNT,
            actor=actor,
            reason="",
        )
        audit.record(action="payments.refund.requested", actor=actor, target=refund)
        refunds.refund_send(refund=refund)
    return refund


def cancellation(*, order, actor, amount):
    return refunds_of_order(
        orders.order_cancel(order=order, actor=staff_member(Role.TICKET_OFFICE))
    )


def retry_of_a_refused_refund(*, order, actor, amount):
    refused = RefundResult(outcome=RefundOutcome.FAILED, gateway_reference="")
    with patch.object(SandboxGateway, "refund", lambda self, **kwargs: refused):
        failed = refunds.refund_request(order=order, actor=actor, amount=amount)
    return refunds.refund_retry(refund=failed, actor=actor)


def refunds_of_order(order):
    return Refund.objects.get(payment__order=order)


FLOWS = {
    "finance refund": lambda **kwargs: refunds.refund_request(**kwargs),
    "visitor cancellation": cancellation,
    "retry of a refused refund": retry_of_a_refused_refund,
    "control: call inside": old_refund_request,
}


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_a_hanging_refund_call_holds_up_no_other_write(user, monkeypatch, flow):
    order = paid_order(user, TimeSlotFactory(), TicketTypeFactory(price=Decimal("500.00")), 2)
    finance = staff_member(Role.FINANCE)
    calling, release = threading.Event(), threading.Event()
    refund_of_sandbox = SandboxGateway.refund

    def hang(self, **kwargs):
        calling.set()
        assert release.wait(WAIT)
        return refund_of_sandbox(self, **kwargs)

    request: Callable[..., Refund] = FLOWS[flow]
    if flow.startswith("control"):
        monkeypatch.setattr(refunds, "ensure_outside_transaction", lambda what: None)
    monkeypatch.setattr(SandboxGateway, "refund", hang)
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["refund"] = request(order=order, actor=finance, amount=Decimal("300.00"))
        except Exception as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert calling.wait(WAIT), outcome
        audit_blocked = blocked(lambda: audit.record(action="wildlife.species.updated"))
        order_blocked = blocked(
            lambda: Order.objects.select_for_update().filter(pk=order.pk).first()
        )
    finally:
        release.set()
        thread.join(WAIT)
    if flow.startswith("control"):
        assert (audit_blocked, order_blocked) == (True, True)
        return
    assert (audit_blocked, order_blocked) == (False, False)
    assert "error" not in outcome, outcome
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.amount == (
        Decimal("1000.00") if flow == "visitor cancellation" else Decimal("300.00")
    )


def test_sending_a_refund_inside_a_transaction_is_refused(user):
    order = paid_order(user, TimeSlotFactory(), TicketTypeFactory(price=Decimal("500.00")), 1)
    with transaction.atomic():
        refund = refunds.refund_open(
            payment=order.payments.get(),
            amount=Decimal("500.00"),
            scope=RefundScope.ORDER,
            actor=None,
            reason="",
        )
        with pytest.raises(RuntimeError, match="after the transaction commits"):
            refunds.refund_send(refund=refund)
