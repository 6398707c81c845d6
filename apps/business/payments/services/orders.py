"""Orders: create (holding capacity), cancel (refunding), expire."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.support.audit import services as audit
from apps.support.common.errors import (
    ConflictError,
    ForbiddenError,
    ServiceError,
    UnauthenticatedError,
)
from apps.support.common.locking import BUSY, is_lock_failure, lock_row_if_free
from apps.support.common.statements import Insert
from apps.support.common.tokens import new_token, token_digest
from apps.support.security.models import User
from apps.support.security.roles import COUNTER_STAFF, has_any_role, role_names

from .. import errors
from ..handlers import LineRequest, guests_may_order, handlers_for, item_handler
from ..models import (
    Channel,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundScope,
)
from ..selectors import order_with_relations
from .common import lock_order, order_kinds, payment_attempt_new
from .refunds import refund_open, refund_send, refundable_amount

logger = logging.getLogger(__name__)

_ORDER = Insert(Order)  # its INSERT compiled once (docs/adr/0054)

# --- Orders -----------------------------------------------------------------------------


def order_create(
    *,
    actor: User | None,
    lines: Sequence[LineRequest],
    channel: str = Channel.ONLINE,
    email: str = "",
) -> Order:
    """A pending order holding its seats for ``ORDER_HOLD_MINUTES``; totals from the server.

    Online orders belong to the visitor who places them; counter orders (ticket office staff)
    belong to nobody and send their tickets to ``email`` when given. A guest (``actor`` None)
    may order only what its kinds allow guests (gifts), online, with an ``email``: the order's
    ``guest_token`` (set on the returned object, never stored) reaches it afterwards.
    """
    return order_place(actor=actor, lines=lines, channel=channel, email=email)[0]


def order_place(
    *,
    actor: User | None,
    lines: Sequence[LineRequest],
    channel: str = Channel.ONLINE,
    email: str = "",
    payment_method: str | None = None,
) -> tuple[Order, Payment | None]:
    """``order_create``; with ``payment_method``, the order's payment attempt is recorded in
    the same transaction (``order_buy`` then asks the gateway, outside it)."""
    if not lines:
        raise ServiceError(_("An order needs at least one line."), code=errors.EMPTY_ORDER)
    guest_token = ""
    if actor is None:
        guest_token = _guest_checked(lines=lines, channel=channel, email=email)
    elif channel == Channel.COUNTER and not has_any_role(actor, COUNTER_STAFF):
        raise ForbiddenError(
            _("Only the ticket office sells at the counter."),
            code=errors.CHANNEL_FORBIDDEN,
            field="channel",
        )
    now = timezone.now()
    priced = []
    for kind in sorted({line.kind for line in lines}):
        handler = item_handler(kind, index=next(ln.index for ln in lines if ln.kind == kind))
        priced += handler.price(
            lines=[line for line in lines if line.kind == kind], channel=channel, now=now
        )
    currencies = {line.currency for line in priced}
    if len(currencies) != 1:
        raise ServiceError(
            _("All lines of an order must be in one currency."), code=errors.MIXED_CURRENCIES
        )
    total = sum((line.unit_price * line.quantity for line in priced), Decimal("0.00"))
    role_names(actor)  # read now, not under the slots' locks: the audit entry names them
    with transaction.atomic():
        order = _ORDER(
            {
                "user": actor if channel == Channel.ONLINE else None,
                "email": email
                or (actor.email if actor is not None and channel == Channel.ONLINE else ""),
                "channel": channel,
                "currency": currencies.pop(),
                "total": total,
                "expires_at": now + timedelta(minutes=settings.ORDER_HOLD_MINUTES),
                "created_by": actor,
                "guest_token_hash": guest_token_hash(guest_token) if guest_token else "",
            }
        )
        order_lines = OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    kind=line.kind,
                    description=line.description,
                    unit_price=line.unit_price,
                    quantity=line.quantity,
                    total=line.unit_price * line.quantity,
                    reference=line.reference,
                )
                for line in priced
            ]
        )
        payment = None
        if payment_method is not None:
            payment = payment_attempt_new(order=order, method=payment_method, actor=actor)
        # What the items lock (a slot's seats) is locked last: only the audit entry follows.
        for handler in handlers_for([line.kind for line in order_lines]):
            handler.hold(order=order, lines=[ln for ln in order_lines if ln.kind == handler.kind])
        audit.record(
            action="payments.order.created",
            actor=actor,
            target=order,
            metadata={
                "code": order.code,
                "channel": channel,
                "total": order.total,
                "currency": order.currency,
                "lines": [line.reference | {"quantity": line.quantity} for line in order_lines],
                **({"paying_with": payment_method} if payment is not None else {}),
            },
        )
    order = order_with_relations(
        order, lines=order_lines, payments=[payment] if payment is not None else []
    )
    order.guest_token = guest_token  # type: ignore[attr-defined]  # shown once, never stored
    return order, payment


guest_token_hash = token_digest


def _guest_checked(*, lines: Sequence[LineRequest], channel: str, email: str) -> str:
    """A new guest token, once a guest's order is one a guest may place."""
    if channel != Channel.ONLINE or not guests_may_order([line.kind for line in lines]):
        raise UnauthenticatedError(
            _("Sign in to buy tickets or enrol; a guest may only make a donation."),
            code=errors.SIGN_IN_REQUIRED,
        )
    if not email:
        raise ServiceError(
            _("A guest's order needs an email, for its receipt."),
            code=errors.GUEST_EMAIL_REQUIRED,
            field="email",
        )
    return new_token()


def order_cancel(*, order: Order, actor: User, reason: str = "") -> Order:
    """Cancel an unpaid order, or a paid one within the cancellation policy (refunding it).

    The ticket office (``COUNTER_STAFF``) is not bound by the policy's deadline, but nobody
    cancels tickets that were already used.
    """
    by_staff = has_any_role(actor, COUNTER_STAFF)
    with transaction.atomic():
        order = lock_order(order.pk)
        now = timezone.now()
        if order.status == OrderStatus.CANCELED:
            raise ConflictError(_("The order is already cancelled."), code=errors.NOT_CANCELLABLE)
        if order.status == OrderStatus.EXPIRED or order.is_hold_expired:
            raise ConflictError(
                _("The order expired unpaid; there is nothing to cancel."),
                code=errors.NOT_CANCELLABLE,
            )
        if order.payments.filter(status=PaymentStatus.PENDING).exists():
            raise ConflictError(
                _("A payment of this order is being confirmed; try again in a moment."),
                code=errors.PAYMENT_IN_PROGRESS,
                retry_after=5,
            )
        handlers = handlers_for(order_kinds(order))
        refunds: list[Refund] = []
        if order.status == OrderStatus.PAID:
            for handler in handlers:
                handler.check_cancellable(order=order, now=now, by_staff=by_staff)
        for handler in handlers:
            handler.released(order=order, reason="canceled")
        for payment in order.payments.filter(
            status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
        ):
            left = refundable_amount(payment)
            if left > 0:
                refunds.append(
                    refund_open(
                        payment=payment,
                        amount=left,
                        scope=RefundScope.CANCELLATION,
                        actor=actor,
                        reason=reason or "canceled",
                    )
                )
        previous = order.status
        order.status = OrderStatus.CANCELED
        order.canceled_at = now
        order.cancel_reason = reason[:200]
        order.save(update_fields=["status", "canceled_at", "cancel_reason", "updated_at"])
        audit.record(
            action="payments.order.canceled",
            actor=actor,
            target=order,
            changes={"status": [previous, OrderStatus.CANCELED]},
            metadata={
                "reason": order.cancel_reason,
                "refunding": [str(refund.amount) for refund in refunds],
            },
        )
    # After the commit: the gateway is never called while the order, its seats or the audit
    # chain head are locked. A refused refund shows as failed, for finance to retry; the
    # cancellation stands (docs/adr/0026).
    for refund in refunds:
        refund_send(refund=refund)
    return order


@dataclass(frozen=True)
class ExpiryRun:
    """What one run of the expiry job did."""

    expired: int
    skipped: int  # in use by a payment, cancellation or check-out right now: taken next run


def orders_expire(*, now: datetime | None = None, limit: int = 500) -> ExpiryRun:
    """Record as expired the unpaid orders whose hold ran out.

    Housekeeping only: their seats stopped counting at ``expires_at`` already. Orders with a
    payment still being confirmed stay pending until the gateway settles it. The job never
    waits for a lock: an order somebody is paying or cancelling at this moment is skipped
    (``SKIP LOCKED``) and taken on the next run, as is one whose audit entry could not be
    written in time.
    """
    now = now or timezone.now()
    candidates = list(
        Order.objects.filter(status=OrderStatus.PENDING, expires_at__lte=now)
        .exclude(payments__status=PaymentStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    expired = skipped = 0
    for order_id in candidates:
        try:
            outcome = _order_expire(order_id=order_id, now=now)
        except OperationalError as error:
            if not is_lock_failure(error):
                raise
            outcome = _SKIPPED
        except ConflictError as conflict:
            if conflict.code != BUSY:
                raise
            outcome = _SKIPPED
        expired += outcome == _EXPIRED
        skipped += outcome == _SKIPPED
    if skipped:
        logger.info("Expiry job: %d orders expired, %d in use skipped.", expired, skipped)
    return ExpiryRun(expired=expired, skipped=skipped)


_EXPIRED, _SKIPPED, _UNCHANGED = "expired", "skipped", "unchanged"


def _order_expire(*, order_id: int, now: datetime) -> str:
    with transaction.atomic():
        order = lock_row_if_free(Order.objects.filter(pk=order_id))
        if order is None:  # orders are never deleted: somebody holds its lock
            return _SKIPPED
        if order.status != OrderStatus.PENDING or order.expires_at > now:
            return _UNCHANGED
        if order.payments.filter(status=PaymentStatus.PENDING).exists():
            return _UNCHANGED
        for handler in handlers_for(order_kinds(order)):
            handler.released(order=order, reason="expired")
        order.status = OrderStatus.EXPIRED
        order.save(update_fields=["status", "updated_at"])
        audit.record(
            action="payments.order.expired",
            actor=audit.SYSTEM,
            target=order,
            changes={"status": [OrderStatus.PENDING, OrderStatus.EXPIRED]},
        )
    return _EXPIRED
