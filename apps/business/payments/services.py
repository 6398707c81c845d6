"""Writes of the payments module: orders, payments, refunds, webhooks.

Lock order, everywhere: the order row, then what its handlers lock (time slots), then the
audit chain head (``audit.record`` is the last write of each transaction). Gateways are called
outside the transactions that hold scarce locks.
"""

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.integrations.payments import (
    GatewayError,
    PaymentOutcome,
    PaymentRequest,
    PaymentResult,
    WebhookRejected,
    get_gateway,
)
from apps.support.audit import services as audit
from apps.support.common.errors import (
    ConflictError,
    ForbiddenError,
    PaymentRequiredError,
    ServiceError,
)
from apps.support.common.locking import BUSY, lock_rows
from apps.support.security.models import User
from apps.support.security.roles import Role, has_any_role

from . import errors
from .handlers import LineRequest, handlers_for, item_handler
from .models import (
    COUNTER_METHODS,
    Channel,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    WebhookEvent,
    WebhookStatus,
)

logger = logging.getLogger(__name__)

COUNTER_ROLES = (Role.TICKET_OFFICE,)
SETTLE_ATTEMPTS = 3
ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "CLP", "PYG", "VND", "ISK", "UGX", "XAF", "XOF"}


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Gateways take integers: ₡2,900.00 is 290000 céntimos."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return int((amount * (10**exponent)).to_integral_value())


def _lock_order(order_id: int) -> Order:
    return lock_rows(Order.objects.filter(pk=order_id))[0]


def _kinds(order: Order) -> list[str]:
    return sorted({line.kind for line in order.lines.all()})


# --- Orders -----------------------------------------------------------------------------


def order_create(
    *,
    actor: User,
    lines: Sequence[LineRequest],
    channel: str = Channel.ONLINE,
    email: str = "",
) -> Order:
    """A pending order holding its seats for ``ORDER_HOLD_MINUTES``; totals from the server.

    Online orders belong to the visitor who places them; counter orders (ticket office staff)
    belong to nobody and send their tickets to ``email`` when given.
    """
    if not lines:
        raise ServiceError(_("An order needs at least one line."), code=errors.EMPTY_ORDER)
    if channel == Channel.COUNTER and not has_any_role(actor, COUNTER_ROLES):
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
    with transaction.atomic():
        order = Order.objects.create(
            user=actor if channel == Channel.ONLINE else None,
            email=email or (actor.email if channel == Channel.ONLINE else ""),
            channel=channel,
            currency=currencies.pop(),
            total=total,
            expires_at=now + timedelta(minutes=settings.ORDER_HOLD_MINUTES),
            created_by=actor,
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
        for handler in handlers_for([line.kind for line in order_lines]):
            handler.hold(order=order, lines=[ln for ln in order_lines if ln.kind == handler.kind])
        audit.record(
            action="payments.order_created",
            actor=actor,
            target=order,
            metadata={
                "code": order.code,
                "channel": channel,
                "total": order.total,
                "currency": order.currency,
                "lines": [line.reference | {"quantity": line.quantity} for line in order_lines],
            },
        )
    return order


def order_cancel(*, order: Order, actor: User, reason: str = "", by_staff: bool = False) -> Order:
    """Cancel an unpaid order, or a paid one within the cancellation policy (refunding it).

    Staff (``by_staff``) are not bound by the policy's deadline, but nobody cancels tickets
    that were already used.
    """
    with transaction.atomic():
        order = _lock_order(order.pk)
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
        handlers = handlers_for(_kinds(order))
        refunded: list[Refund] = []
        if order.status == OrderStatus.PAID:
            for handler in handlers:
                handler.check_cancellable(order=order, now=now, by_staff=by_staff)
            for payment in order.payments.filter(status=PaymentStatus.SUCCEEDED):
                refunded.append(_refund(payment=payment, actor=actor, reason=reason or "canceled"))
        for handler in handlers:
            handler.released(order=order, reason="canceled")
        previous = order.status
        order.status = OrderStatus.CANCELED
        order.canceled_at = now
        order.cancel_reason = reason[:200]
        order.save(update_fields=["status", "canceled_at", "cancel_reason", "updated_at"])
        audit.record(
            action="payments.order_canceled",
            actor=actor,
            target=order,
            changes={"status": [previous, OrderStatus.CANCELED]},
            metadata={
                "reason": order.cancel_reason,
                "refunded": [str(refund.amount) for refund in refunded],
            },
        )
    return order


def orders_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Record as expired the unpaid orders whose hold ran out; returns how many.

    Housekeeping only: their seats stopped counting at ``expires_at`` already. Orders with a
    payment still being confirmed stay pending until the gateway settles it.
    """
    now = now or timezone.now()
    candidates = list(
        Order.objects.filter(status=OrderStatus.PENDING, expires_at__lte=now)
        .exclude(payments__status=PaymentStatus.PENDING)
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for order_id in candidates:
        with transaction.atomic():
            order = _lock_order(order_id)
            if order.status != OrderStatus.PENDING or order.expires_at > now:
                continue
            if order.payments.filter(status=PaymentStatus.PENDING).exists():
                continue
            for handler in handlers_for(_kinds(order)):
                handler.released(order=order, reason="expired")
            order.status = OrderStatus.EXPIRED
            order.save(update_fields=["status", "updated_at"])
            audit.record(
                action="payments.order_expired",
                actor=audit.SYSTEM,
                target=order,
                changes={"status": [OrderStatus.PENDING, OrderStatus.EXPIRED]},
            )
            expired += 1
    return expired


# --- Payments ---------------------------------------------------------------------------


def order_pay(
    *, order: Order, actor: User, method: str, options: dict[str, Any] | None = None
) -> Payment:
    """Pay ``order`` with a gateway (online) or record a counter payment (ticket office).

    Returns the payment: ``succeeded`` (the order is paid and its tickets issued) or
    ``pending`` (the gateway confirms later through its webhook). A declined payment raises
    ``PaymentRequiredError`` and leaves the order payable until its hold expires.
    """
    options = options or {}
    gateway = None
    if method in COUNTER_METHODS:
        if not has_any_role(actor, COUNTER_ROLES):
            raise ForbiddenError(
                _("Cash and card-present payments are recorded by the ticket office."),
                code=errors.COUNTER_ONLY,
                field="gateway",
            )
    else:
        gateway = get_gateway(method)
        if gateway is None:
            raise ServiceError(
                _("%(gateway)s is not a payment gateway enabled here.") % {"gateway": method},
                code=errors.UNKNOWN_GATEWAY,
                field="gateway",
            )
    if options and method != PaymentMethod.SANDBOX:
        raise ServiceError(
            _("Only the sandbox gateway takes test options."),
            code=errors.SANDBOX_OPTION,
            field="sandbox",
        )

    with transaction.atomic():
        order = _lock_order(order.pk)
        if order.status == OrderStatus.PAID:
            raise ConflictError(_("The order is already paid."), code=errors.ALREADY_PAID)
        # An expired order may still be paid while its seats are free (taken again then).
        if order.status not in (OrderStatus.PENDING, OrderStatus.EXPIRED):
            raise ConflictError(
                _("A %(status)s order cannot be paid.") % {"status": order.get_status_display()},
                code=errors.ORDER_NOT_PAYABLE,
            )
        if order.payments.filter(status=PaymentStatus.PENDING).exists():
            raise ConflictError(
                _("A payment of this order is being confirmed; try again in a moment."),
                code=errors.PAYMENT_IN_PROGRESS,
                retry_after=5,
            )
        payment = Payment.objects.create(
            order=order,
            method=method,
            amount=order.total,
            currency=order.currency,
            created_by=actor,
        )

    if gateway is None:
        result = PaymentResult(outcome=PaymentOutcome.SUCCEEDED, gateway_reference="")
    else:
        try:
            result = gateway.start_payment(
                PaymentRequest(
                    amount_minor=to_minor_units(payment.amount, payment.currency),
                    currency=payment.currency,
                    reference=f"{order.code}-{payment.pk}",
                    description=_("Parque Marino order %(code)s") % {"code": order.code},
                    idempotency_key=f"payment-{payment.pk}",
                    options=options,
                )
            )
        except GatewayError as error:
            _payment_fail(payment=payment, code=errors.GATEWAY_UNAVAILABLE, message=str(error))
            raise ConflictError(
                _("The payment provider did not answer; nothing was charged. Try again."),
                code=errors.GATEWAY_UNAVAILABLE,
                retry_after=5,
            ) from error
    return _payment_apply(payment=payment, result=result, actor=actor)


def _payment_apply(*, payment: Payment, result: PaymentResult, actor: User | None) -> Payment:
    if result.outcome == PaymentOutcome.DECLINED:
        _payment_fail(payment=payment, code=result.failure_code, message=result.failure_message)
        raise PaymentRequiredError(
            _("The payment was declined: %(reason)s")
            % {"reason": result.failure_message or result.failure_code},
            code=errors.PAYMENT_DECLINED,
        )
    if result.outcome == PaymentOutcome.PENDING:
        with transaction.atomic():
            payment.gateway_reference = result.gateway_reference
            payment.next_action = result.next_action
            payment.save(update_fields=["gateway_reference", "next_action", "updated_at"])
            audit.record(
                action="payments.payment_started",
                actor=actor,
                target=payment,
                metadata={"order": payment.order.code, "method": payment.method},
            )
        return payment
    return payment_succeed(payment=payment, gateway_reference=result.gateway_reference, actor=actor)


def _payment_fail(*, payment: Payment, code: str, message: str) -> None:
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.FAILED,
            failure_code=code[:64],
            failure_message=message[:300],
            next_action=None,
            updated_at=timezone.now(),
        )
        audit.record(
            action="payments.payment_failed",
            target=payment,
            metadata={"order": payment.order.code, "method": payment.method, "code": code},
        )
    payment.refresh_from_db()


def payment_succeed(
    *, payment: Payment, gateway_reference: str, actor: User | None = None
) -> Payment:
    """The gateway took the money: the order is paid and its items delivered.

    Idempotent (a second confirmation changes nothing). When the hold had run out and its
    seats were sold meanwhile, the money is refunded and ``ConflictError`` says so.
    """
    for attempt in range(SETTLE_ATTEMPTS):
        try:
            return _payment_settle(
                payment=payment, gateway_reference=gateway_reference, actor=actor
            )
        except ConflictError as conflict:
            if conflict.code == BUSY and attempt + 1 < SETTLE_ATTEMPTS:
                continue
            if conflict.code == BUSY:
                raise
            _refund_unfulfillable(payment=payment, reason=conflict.code)
            raise
    raise AssertionError("unreachable")


def _payment_settle(*, payment: Payment, gateway_reference: str, actor: User | None) -> Payment:
    with transaction.atomic():
        order = _lock_order(payment.order_id)
        payment = Payment.objects.get(pk=payment.pk)
        if payment.status == PaymentStatus.SUCCEEDED:
            return payment
        if payment.status != PaymentStatus.PENDING:
            raise ConflictError(
                _("This payment was already settled as %(status)s.")
                % {"status": payment.get_status_display()},
                code=errors.ORDER_NOT_PAYABLE,
            )
        if order.status not in (OrderStatus.PENDING, OrderStatus.EXPIRED):
            # Paid twice, or cancelled while the bank confirmed: the money goes back.
            raise ConflictError(
                _("The order is %(status)s; this payment is refunded.")
                % {"status": order.get_status_display()},
                code=errors.ORDER_NOT_PAYABLE,
            )
        for handler in handlers_for(_kinds(order)):
            handler.paid(order=order)
        now = timezone.now()
        payment.status = PaymentStatus.SUCCEEDED
        payment.gateway_reference = gateway_reference or payment.gateway_reference
        payment.succeeded_at = now
        payment.next_action = None
        payment.save(
            update_fields=[
                "status",
                "gateway_reference",
                "succeeded_at",
                "next_action",
                "updated_at",
            ]
        )
        previous = order.status
        order.status = OrderStatus.PAID
        order.paid_at = now
        order.save(update_fields=["status", "paid_at", "updated_at"])
        payment.order = order
        audit.record(
            action="payments.order_paid",
            actor=actor if actor is not None else audit.SYSTEM,
            target=order,
            changes={"status": [previous, OrderStatus.PAID]},
            metadata={
                "payment": payment.pk,
                "method": payment.method,
                "amount": payment.amount,
                "currency": payment.currency,
            },
        )
    return payment


def _refund(*, payment: Payment, actor: User | None, reason: str) -> Refund:
    """Give a succeeded payment's money back (the gateway's refund, or cash from the till)."""
    succeeded, reference, failure = True, "", ""
    if payment.method not in COUNTER_METHODS:
        gateway = get_gateway(payment.method)
        if gateway is None:
            raise ConflictError(
                _("%(gateway)s is no longer enabled; refund this payment by hand.")
                % {"gateway": payment.method},
                code=errors.REFUND_FAILED,
            )
        try:
            result = gateway.refund(
                gateway_reference=payment.gateway_reference,
                amount_minor=to_minor_units(payment.amount, payment.currency),
                currency=payment.currency,
                idempotency_key=f"refund-{payment.pk}",
            )
            succeeded, reference, failure = (
                result.succeeded,
                result.gateway_reference,
                result.failure_message,
            )
        except GatewayError as error:
            succeeded, failure = False, str(error)
    if not succeeded:
        raise ConflictError(
            _("The payment provider refused the refund: %(reason)s") % {"reason": failure},
            code=errors.REFUND_FAILED,
        )
    refund = Refund.objects.create(
        payment=payment,
        amount=payment.amount,
        currency=payment.currency,
        succeeded=True,
        gateway_reference=reference,
        reason=reason[:200],
        created_by=actor,
    )
    payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["status", "updated_at"])
    return refund


def _refund_unfulfillable(*, payment: Payment, reason: str) -> None:
    """Money taken for an order that can no longer be delivered goes straight back."""
    with transaction.atomic():
        payment = lock_rows(Payment.objects.filter(pk=payment.pk))[0]
        if payment.status != PaymentStatus.PENDING:
            return
        payment.status = PaymentStatus.SUCCEEDED  # taken, then given back below
        refund = _refund(payment=payment, actor=None, reason=reason)
        audit.record(
            action="payments.payment_refunded",
            actor=audit.SYSTEM,
            target=payment,
            metadata={"order": payment.order.code, "reason": reason, "amount": refund.amount},
        )


# --- Webhooks ---------------------------------------------------------------------------


def webhook_receive(*, gateway_name: str, headers: dict[str, str], body: bytes) -> WebhookEvent:
    """Verify a gateway's delivery, store it raw, and process it once (by event id)."""
    gateway = get_gateway(gateway_name)
    if gateway is None:
        raise ServiceError(
            _("%(gateway)s is not a payment gateway enabled here.") % {"gateway": gateway_name},
            code=errors.UNKNOWN_GATEWAY,
        )
    try:
        parsed = gateway.parse_webhook(headers=headers, body=body)
    except WebhookRejected as error:
        logger.warning("Rejected a %s webhook: %s", gateway_name, error)
        raise ServiceError(
            _("The webhook's signature does not check out."), code=errors.WEBHOOK_REJECTED
        ) from error
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            gateway=gateway_name,
            event_id=parsed.event_id[:120],
            defaults={
                "event_type": parsed.event_type[:80],
                "gateway_reference": parsed.gateway_reference[:120],
                "body": body.decode("utf-8", errors="replace"),
            },
        )
        if not created:
            WebhookEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)
    if event.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED):
        return event
    return webhook_event_process(event=event)


def webhook_event_process(*, event: WebhookEvent) -> WebhookEvent:
    """Apply a stored event (again): used on receipt and by replays (admin, command)."""
    gateway = get_gateway(event.gateway)
    if gateway is None:
        return _webhook_mark(event, WebhookStatus.FAILED, "gateway not enabled")
    try:
        parsed = gateway.event_from_stored_body(event.body.encode())
    except WebhookRejected as error:
        return _webhook_mark(event, WebhookStatus.FAILED, str(error))
    if parsed.outcome is None:
        return _webhook_mark(event, WebhookStatus.IGNORED, "not a payment settlement")
    payment = Payment.objects.filter(
        method=event.gateway, gateway_reference=event.gateway_reference
    ).first()
    if payment is None:
        return _webhook_mark(event, WebhookStatus.IGNORED, "no payment with this reference")
    try:
        if parsed.outcome == PaymentOutcome.SUCCEEDED:
            payment_succeed(payment=payment, gateway_reference=event.gateway_reference)
        elif payment.status == PaymentStatus.PENDING:
            _payment_fail(payment=payment, code=parsed.failure_code, message=parsed.failure_message)
    except ConflictError as conflict:
        if conflict.code == BUSY:
            return _webhook_mark(event, WebhookStatus.FAILED, str(conflict.message))
        # Not deliverable (sold out after the hold, order cancelled): refunded above.
        return _webhook_mark(event, WebhookStatus.PROCESSED, str(conflict.message))
    return _webhook_mark(event, WebhookStatus.PROCESSED, "")


def _webhook_mark(event: WebhookEvent, status: str, error: str) -> WebhookEvent:
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=status, error=error, processed_at=timezone.now()
    )
    event.refresh_from_db()
    return event
