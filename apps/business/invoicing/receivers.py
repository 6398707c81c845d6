"""What invoicing does when payments says money moved (``apps.business.payments.signals``).

Payments sends its signals inside the transaction that records the fact. Nothing is issued in
that transaction: the receiver queues a task for when it commits, and the task issues the
document in a short transaction of its own (docs/adr/0023). ``robust``: a task that cannot be
queued (a broker down) or that fails when run eagerly is logged, never turned into an error of
the payment, which has committed; ``invoices_issue_missing`` issues the document later.
"""

from typing import Any

from django.db import transaction

from apps.business.payments.models import Order, Refund

from .tasks import issue_credit_note, issue_invoice


def order_paid(sender: Any, order: Order, **kwargs: Any) -> None:
    order_id = order.pk
    transaction.on_commit(lambda: issue_invoice.delay(order_id), robust=True)


def refund_succeeded(sender: Any, refund: Refund, **kwargs: Any) -> None:
    refund_id = refund.pk
    transaction.on_commit(lambda: issue_credit_note.delay(refund_id), robust=True)
