"""What the invoicing tests share: paid orders made by the real services, payments' side of
the signal contract, refunds as payments records them, and the text of a PDF."""

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import transaction

from apps.business.invoicing import receivers
from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Order, Refund, RefundScope, RefundStatus
from apps.business.payments.signals import order_paid, refund_succeeded


def buy(user, *lines: tuple[object, object, int]) -> Order:
    """A paid order of ``(slot, ticket_type, quantity)`` lines, through the real services."""
    order = payments.order_create(
        actor=user,
        lines=[
            LineRequest(
                kind="ticket",
                quantity=quantity,
                fields={"slot": slot.pk, "ticket_type": ticket_type.pk},
                index=index,
            )
            for index, (slot, ticket_type, quantity) in enumerate(lines)
        ],
    )
    payments.order_pay(order=order, actor=user, method="sandbox")
    order.refresh_from_db()
    return order


def announce_paid(order: Order) -> None:
    """Payments' side of the contract: ``order_paid`` inside the transaction that records the
    payment, as its settlement sends it."""
    with transaction.atomic():
        order_paid.send(sender=Order, order=order)


def refund_of(
    order: Order,
    amount: Decimal,
    *,
    status: str = RefundStatus.SUCCEEDED,
    scope: str = RefundScope.AMOUNT,
    lines: list[dict[str, int]] | None = None,
) -> Refund:
    """A refund of the order's payment as payments records it once the gateway answered. Made
    directly, so that the credit note's rules are tested whatever payments' refund service
    does (it is tested against them too, in test_credit_notes)."""
    return Refund.objects.create(
        payment=order.payments.get(succeeded_at__isnull=False),
        amount=amount,
        currency=order.currency,
        status=status,
        scope=scope,
        lines=lines or [],
        reason="requested by the visitor",
    )


def announce_refunded(refund: Refund) -> None:
    """Payments' side of the contract: ``refund_succeeded`` inside the transaction that records
    that the gateway confirmed the refund."""
    with transaction.atomic():
        refund_succeeded.send(sender=Refund, refund=refund)


@contextmanager
def unannounced() -> Iterator[None]:
    """Payments' signals reach no receiver of invoicing: what is paid or refunded meanwhile has
    no document until one is issued by other means (the sweep, a race)."""
    order_paid.disconnect(dispatch_uid="invoicing:order-paid")
    refund_succeeded.disconnect(dispatch_uid="invoicing:refund-succeeded")
    try:
        yield
    finally:
        order_paid.connect(receivers.order_paid, dispatch_uid="invoicing:order-paid")
        refund_succeeded.connect(
            receivers.refund_succeeded, dispatch_uid="invoicing:refund-succeeded"
        )


# A stream is read by its /Length: its compressed bytes may end in "\r" (or hold "endstream").
_STREAM = re.compile(rb"/Length (\d+)[^>]*>>\s*stream\r?\n")
_SHOWN = re.compile(rb"\(((?:\\.|[^\\)])*)\) Tj")
_ESCAPE = re.compile(rb"\\(.)")


def pdf_text(pdf: bytes) -> list[str]:
    """The strings a PDF made by fpdf2 with its core fonts shows, in order (Latin-1)."""
    shown = []
    for found in _STREAM.finditer(pdf):
        stream = pdf[found.end() : found.end() + int(found.group(1))]
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            continue
        for text in _SHOWN.findall(content):
            shown.append(_ESCAPE.sub(rb"\1", text).decode("latin-1"))
    return shown
