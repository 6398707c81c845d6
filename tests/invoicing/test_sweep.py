"""Documents whose task was lost (a worker died between the commit and the issue) are issued
by the sweep: once, never twice, skipping orders somebody is using right now."""

import io
import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from apps.business.invoicing import services, tasks
from apps.business.invoicing.models import Invoice
from apps.business.invoicing.services import SweepRun, invoices_issue_missing
from apps.business.payments.models import Order
from tests.invoicing.helpers import buy, refund_of, unannounced
from tests.sales import place_order

pytestmark = pytest.mark.django_db


def test_the_sweep_issues_what_is_missing_once(visitor, slot, adult, year):
    with unannounced():
        lost, invoiced, refunded = (buy(visitor, (slot, adult, 1)) for _ in range(3))
    place_order(visitor, slot, adult)  # unpaid: nothing to issue
    invoice = services.invoice_issue(order_id=invoiced.pk)
    services.invoice_issue(order_id=refunded.pk)
    refund = refund_of(refunded, Decimal("2900.00"))
    refund_of(invoiced, Decimal("1450.00"), status="pending")  # not confirmed: nothing yet

    assert invoices_issue_missing() == SweepRun(invoices=1, credit_notes=1, skipped=0)
    assert Invoice.objects.get(order=lost, kind="invoice").number == f"PM-{year}-000003"
    assert Invoice.objects.get(refund=refund).refers_to.order == refunded
    assert Invoice.objects.get(order=invoiced, kind="invoice") == invoice
    assert invoices_issue_missing() == SweepRun(invoices=0, credit_notes=0, skipped=0)
    assert Invoice.objects.count() == 4


def test_a_lost_refund_of_a_lost_invoice_gets_both(visitor, slot, adult, year):
    with unannounced():
        order = buy(visitor, (slot, adult, 1))
    refund = refund_of(order, Decimal("2900.00"))
    assert invoices_issue_missing() == SweepRun(invoices=1, credit_notes=1, skipped=0)
    credit_note = Invoice.objects.get(refund=refund)
    assert (credit_note.number, credit_note.refers_to.number) == (
        f"PMNC-{year}-000001",
        f"PM-{year}-000001",
    )


def test_the_command_and_the_task_say_what_they_did(visitor, slot, adult):
    with unannounced():
        buy(visitor, (slot, adult, 1))
        buy(visitor, (slot, adult, 1))
    out = io.StringIO()
    call_command("invoices_issue_missing", stdout=out)
    assert out.getvalue() == (
        "2 invoices and 0 credit notes issued, 0 skipped (in use, taken next run).\n"
    )
    assert tasks.issue_missing.delay().get() == {"invoices": 0, "credit_notes": 0, "skipped": 0}


@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_sweep_skips_an_order_somebody_is_using(visitor, slot, adult):
    with unannounced():
        order = buy(visitor, (slot, adult, 1))
    locked, release = threading.Event(), threading.Event()

    def pay_or_cancel_it():
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=order.pk)
                locked.set()
                release.wait(timeout=120)
        finally:
            connection.close()

    holder = threading.Thread(target=pay_or_cancel_it)
    holder.start()
    try:
        assert locked.wait(timeout=120)
        assert invoices_issue_missing() == SweepRun(invoices=0, credit_notes=0, skipped=1)
    finally:
        release.set()
        holder.join()
    assert invoices_issue_missing() == SweepRun(invoices=1, credit_notes=0, skipped=0)
