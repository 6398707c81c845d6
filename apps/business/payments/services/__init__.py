"""Writes of the payments module: orders, payments, refunds, webhooks.

Lock order, everywhere: the order row, then what its handlers lock (time slots), then the
audit chain head (``audit.record`` is the last write of each transaction). Gateways are called
outside the transactions that hold scarce locks.
"""

from .common import to_minor_units
from .orders import ExpiryRun, order_cancel, order_create, orders_expire
from .payments import order_pay, payment_succeed
from .webhooks import webhook_event_process, webhook_receive

__all__ = [
    "ExpiryRun",
    "order_cancel",
    "order_create",
    "order_pay",
    "orders_expire",
    "payment_succeed",
    "to_minor_units",
    "webhook_event_process",
    "webhook_receive",
]
