"""What payments tells the modules above it, without importing them.

Both are sent inside the transaction that records the fact; a receiver that does more than
write rows of that transaction (a PDF, an email, a number from a counter) defers it with
``transaction.on_commit`` so the paying transaction stays short.
"""

from django.dispatch import Signal

# The order is paid (its payment settled): kwargs ``order``.
order_paid = Signal()
# Money went back to the buyer (the gateway confirmed it): kwargs ``refund``.
refund_succeeded = Signal()
