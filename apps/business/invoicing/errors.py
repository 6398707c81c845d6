"""Error codes of the invoicing module."""

ORDER_NOT_FOUND = "order_not_found"
ORDER_NOT_PAID = "order_not_paid"
REFUND_NOT_FOUND = "refund_not_found"
REFUND_NOT_SUCCEEDED = "refund_not_succeeded"
