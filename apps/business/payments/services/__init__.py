"""Writes of the payments module: orders, payments, refunds, webhooks.

Lock order, everywhere: the order row, then what its handlers lock (time slots, tickets), then
the audit chain head (``audit.record`` is the last write of each transaction). Gateways are
called only outside transactions: the intent is recorded and committed first, the answer
recorded in a second short transaction (docs/adr/0026).
"""

from .common import lock_order as order_lock
from .common import to_minor_units
from .orders import ExpiryRun, guest_token_hash, order_cancel, order_create, orders_expire
from .payments import (
    order_buy,
    order_pay,
    payment_resume,
    payment_succeed,
    payments_resume_interrupted,
)
from .refunds import (
    LineRefund,
    refund_items_open,
    refund_request,
    refund_retry,
    refund_send,
    refundable_amount,
    refunds_reconcile,
    refunds_resend_pending,
)
from .statements import statements_fetch
from .webhooks import (
    order_dispute,
    webhook_event_process,
    webhook_events_retry_due,
    webhook_receive,
)

__all__ = [
    "ExpiryRun",
    "LineRefund",
    "guest_token_hash",
    "order_buy",
    "order_cancel",
    "order_create",
    "order_dispute",
    "order_lock",
    "order_pay",
    "orders_expire",
    "payment_resume",
    "payment_succeed",
    "payments_resume_interrupted",
    "refund_items_open",
    "refund_request",
    "refund_retry",
    "refund_send",
    "refundable_amount",
    "refunds_reconcile",
    "refunds_resend_pending",
    "statements_fetch",
    "to_minor_units",
    "webhook_event_process",
    "webhook_events_retry_due",
    "webhook_receive",
]
