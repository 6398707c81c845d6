"""Refunds: asked for in one transaction, sent to the gateway after it commits, its answer
recorded in a second one (docs/adr/0026).

What may still be refunded is the captured money minus every refund that is pending or
succeeded, counted under the order's lock: two refunds at once never give back more than was
taken. A refund's effects beyond the money (tickets voided, seats back, the order cancelled,
the credit note, the buyer's email) happen when the gateway confirms it, so a refused or failed
refund leaves the order as it was.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import OperationalError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.integrations.payments import (
    GatewayError,
    RefundOutcome,
    RefundResult,
    get_gateway,
)
from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, ServiceError
from apps.support.common.locking import (
    BUSY,
    ensure_outside_transaction,
    is_lock_failure,
    lock_rows,
)
from apps.support.common.services import email_send_on_commit
from apps.support.security.models import User
from apps.support.security.roles import Role

from .. import errors
from ..handlers import allows_money_only_refunds, handlers_for
from ..models import (
    CAPTURED_STATUSES,
    COUNTER_METHODS,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundScope,
    RefundStatus,
)
from ..signals import refund_succeeded
from .common import from_minor_units, lock_order, lock_payment, to_minor_units

logger = logging.getLogger(__name__)

# Refunds that count against what may still be given back.
RESERVING = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


@dataclass(frozen=True)
class LineRefund:
    """``quantity`` items of order line ``line`` (an ``OrderLine`` id), as finance asks."""

    line: int
    quantity: int


def refundable_amount(payment: Payment) -> Decimal:
    """What of ``payment`` may still be refunded (read under the order's lock to rely on it)."""
    if payment.status not in CAPTURED_STATUSES:
        return Decimal("0.00")
    reserved = payment.refunds.filter(status__in=RESERVING).aggregate(total=Sum("amount"))
    # Quantized: SQLite sums decimals as floats.
    return (payment.amount - (reserved["total"] or Decimal("0.00"))).quantize(Decimal("0.01"))


def refund_open(
    *,
    payment: Payment,
    amount: Decimal,
    scope: str,
    actor: User | None,
    reason: str,
    lines: Sequence[LineRefund] = (),
) -> Refund:
    """Record the intent to refund (inside the caller's transaction, the order locked).

    The caller commits, then calls ``refund_send``: the gateway is never called while the
    transaction, its row locks or the audit chain head are held.
    """
    return Refund.objects.create(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        status=RefundStatus.PENDING,
        scope=scope,
        lines=[{"line": item.line, "quantity": item.quantity} for item in lines],
        reason=reason[:200],
        created_by=actor,
    )


def refund_request(
    *,
    order: Order,
    actor: User,
    lines: Sequence[LineRefund] | None = None,
    amount: Decimal | None = None,
    reason: str = "",
) -> Refund:
    """Finance gives money back: the whole order (neither ``lines`` nor ``amount``), some of
    its lines (their items voided, their seats back on sale) or an amount (money only).

    Returns the refund as the gateway left it: ``succeeded``, ``pending`` (the gateway
    confirms later) or ``failed`` (nothing changed; ``refund_retry`` tries again).
    """
    if lines and amount is not None:
        raise ServiceError(
            _("Refund either some lines or an amount, not both."), code=errors.REFUND_INVALID
        )
    with transaction.atomic():
        order = lock_order(order.pk)
        payment = _captured_payment(order)
        left = refundable_amount(payment)
        if lines:
            scope, items = RefundScope.LINES, _checked_lines(order, payment, lines)
            wanted = sum((line.unit_price * quantity for line, quantity in items), Decimal("0.00"))
        elif amount is not None:
            if (
                from_minor_units(to_minor_units(amount, payment.currency), payment.currency)
                != amount
            ):
                raise ServiceError(
                    _("%(currency)s has no amounts finer than its smallest coin.")
                    % {"currency": payment.currency},
                    code=errors.AMOUNT_PRECISION,
                    field="amount",
                )
            _refuse_money_only_over_standing_items(order, payment)
            scope, items, wanted = RefundScope.AMOUNT, [], amount
        else:
            scope, items, wanted = RefundScope.ORDER, [], left
        if wanted <= 0:
            raise ConflictError(
                _("Nothing of this order is left to refund."), code=errors.NOTHING_TO_REFUND
            )
        if wanted > left:
            raise ConflictError(
                _("%(amount)s is more than what is left to refund (%(left)s %(currency)s).")
                % {"amount": wanted, "left": left, "currency": payment.currency},
                code=errors.REFUND_EXCEEDS_CAPTURED,
                field="amount" if amount is not None else "lines",
            )
        refund = refund_open(
            payment=payment,
            amount=wanted,
            scope=scope,
            actor=actor,
            reason=reason,
            lines=[LineRefund(line=line.pk, quantity=quantity) for line, quantity in items],
        )
        _audit_requested(refund=refund, order=order, actor=actor)
    return refund_send(refund=refund)


def refund_items_open(
    *, order: Order, items: Sequence[tuple[OrderLine, int]], actor: User, reason: str
) -> Refund | None:
    """A selling module takes back items of a paid order itself (an educator cancels some
    participants of an enrollment): record the intent to refund them, inside the caller's
    transaction, the order locked first (``order_lock``). The caller commits, then calls
    ``refund_send``. When the gateway confirms, the line's handler gets ``refunded`` as for
    finance's line refunds. ``None`` when no money was taken for them."""
    payment = (
        order.payments.filter(
            status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
        )
        .order_by("-amount", "pk")
        .first()
    )
    if payment is None:
        return None
    checked = _checked_lines(
        order, payment, [LineRefund(line=line.pk, quantity=qty) for line, qty in items]
    )
    wanted = sum((line.unit_price * quantity for line, quantity in checked), Decimal("0.00"))
    amount = min(wanted, refundable_amount(payment))
    if amount <= 0:
        return None
    refund = refund_open(
        payment=payment,
        amount=amount,
        scope=RefundScope.LINES,
        actor=actor,
        reason=reason,
        lines=[LineRefund(line=line.pk, quantity=quantity) for line, quantity in checked],
    )
    _audit_requested(refund=refund, order=order, actor=actor)
    return refund


def _audit_requested(*, refund: Refund, order: Order, actor: User | None) -> None:
    audit.record(
        action="payments.refund.requested",
        actor=actor,
        target=refund,
        metadata={
            "order": order.code,
            "scope": refund.scope,
            "amount": refund.amount,
            "currency": refund.currency,
            "lines": refund.lines,
        },
    )


def refund_retry(*, refund: Refund, actor: User) -> Refund:
    """Ask the gateway again. A failed refund is asked for anew (a new idempotency key), if
    what is left to refund still allows it; a pending one whose answer never came is asked
    with the same key (the gateway answers what it did the first time)."""
    with transaction.atomic():
        lock_order(refund.payment.order_id)
        refund = lock_rows(Refund.objects.filter(pk=refund.pk))[0]
        if refund.status == RefundStatus.SUCCEEDED:
            raise ConflictError(
                _("Only a failed or pending refund can be tried again; this one is %(status)s.")
                % {"status": refund.get_status_display()},
                code=errors.REFUND_NOT_RETRYABLE,
            )
        payment = refund.payment
        if refund.status == RefundStatus.FAILED:
            left = refundable_amount(payment)
            if refund.amount > left:
                raise ConflictError(
                    _("%(amount)s is more than what is left to refund (%(left)s %(currency)s).")
                    % {"amount": refund.amount, "left": left, "currency": payment.currency},
                    code=errors.REFUND_EXCEEDS_CAPTURED,
                )
            refund.status = RefundStatus.PENDING
            refund.retries += 1
            refund.gateway_reference = ""
        refund.failure_message = ""
        refund.save(
            update_fields=[
                "status",
                "retries",
                "gateway_reference",
                "failure_message",
                "updated_at",
            ]
        )
        audit.record(
            action="payments.refund.retried",
            actor=actor,
            target=refund,
            metadata={"order": payment.order.code, "amount": refund.amount},
        )
    return refund_send(refund=refund)


def refunds_resend_pending(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Ask again, with the same key, for the refunds still pending whose answer never came or
    could not be recorded (a periodic job). Returns how many were asked."""
    due = list(
        Refund.objects.filter(
            status=RefundStatus.PENDING, updated_at__lte=timezone.now() - older_than
        )
        .select_related("payment")
        .order_by("pk")[:100]
    )
    for refund in due:
        refund_send(refund=refund)
    return len(due)


def refund_send(*, refund: Refund) -> Refund:
    """Ask the gateway for the money (outside any transaction), then record its answer.

    Cash and card-present payments are given back at the till: confirmed at once. A gateway
    that does not answer leaves the refund pending (it still counts against what may be
    refunded): asked again with the same key, or settled by the gateway's webhook.
    """
    ensure_outside_transaction("refund_send(), which talks to a gateway,")
    payment = refund.payment
    Refund.objects.filter(pk=refund.pk).update(attempts=F("attempts") + 1)
    if payment.method in COUNTER_METHODS or refund.amount == 0:
        result = RefundResult(outcome=RefundOutcome.SUCCEEDED, gateway_reference="")
    else:
        gateway = get_gateway(payment.method)
        if gateway is None:
            result = RefundResult(
                outcome=RefundOutcome.FAILED,
                gateway_reference="",
                failure_message=_("%(gateway)s is no longer enabled here; refund it by hand.")
                % {"gateway": payment.method},
            )
        else:
            try:
                result = gateway.refund(
                    gateway_reference=payment.gateway_reference,
                    capture_reference=payment.capture_reference,
                    amount_minor=to_minor_units(refund.amount, refund.currency),
                    currency=refund.currency,
                    idempotency_key=refund.idempotency_key,
                )
            except GatewayError as error:
                logger.warning("Refund %s: the gateway did not answer: %s", refund.pk, error)
                result = RefundResult(
                    outcome=RefundOutcome.PENDING,
                    gateway_reference="",
                    failure_message=_(
                        "The payment provider did not answer (%(reason)s); the refund is "
                        "asked again with the same request, never twice."
                    )
                    % {"reason": str(error)[:150]},
                )
    return refund_record_answer(refund=refund, result=result)


def refund_record_answer(*, refund: Refund, result: RefundResult) -> Refund:
    """Record what the gateway answered (a short transaction of its own). A refund already
    settled is left alone (a webhook may have told first).

    The money may have moved: this never answers "try again". When the order's lock cannot be
    had, the gateway's refund id is kept and the refund stays pending, for the resend job (or
    the gateway's webhook) to complete.
    """
    if result.gateway_reference:
        Refund.objects.filter(pk=refund.pk, gateway_reference="").update(
            gateway_reference=result.gateway_reference
        )
    for _attempt in range(3):
        try:
            with transaction.atomic():
                order = lock_order(refund.payment.order_id)
                refund = lock_rows(Refund.objects.filter(pk=refund.pk))[0]
                if result.outcome == RefundOutcome.SUCCEEDED:
                    if refund.status != RefundStatus.SUCCEEDED:
                        _refund_succeed(order=order, refund=refund)
                elif refund.status == RefundStatus.PENDING:
                    if result.outcome == RefundOutcome.FAILED:
                        _refund_fail(refund=refund, message=result.failure_message)
                    elif result.failure_message != refund.failure_message:
                        refund.failure_message = result.failure_message[:300]
                        refund.save(update_fields=["failure_message", "updated_at"])
            break
        except ConflictError as conflict:
            if conflict.code != BUSY:
                raise
        except OperationalError as error:
            if not is_lock_failure(error):
                raise
    refund.refresh_from_db()
    return refund


def _refund_succeed(*, order: Order, refund: Refund) -> None:
    """The money is back with the buyer: do what the refund promised (order locked)."""
    payment = lock_rows(Payment.objects.filter(pk=refund.payment_id))[0]
    now = timezone.now()
    first_time = refund.completed_at is None  # a refund reversed, then retried: effects once
    refund.status = RefundStatus.SUCCEEDED
    refund.failure_message = ""
    refund.completed_at = refund.completed_at or now
    refund.save(update_fields=["status", "failure_message", "completed_at", "updated_at"])
    if first_time:
        _refund_deliver_effects(order=order, refund=refund, payment=payment, now=now)
    _payment_status_from_refunds(payment)
    refund_succeeded.send(sender=Refund, refund=refund)
    audit.record(
        action="payments.refund.succeeded",
        actor=audit.SYSTEM,
        target=refund,
        metadata={
            "order": order.code,
            "scope": refund.scope,
            "amount": refund.amount,
            "currency": refund.currency,
            "gateway_reference": refund.gateway_reference,
        },
    )
    if order.email:
        email_send_on_commit(
            subject=_("Your refund for order %(code)s") % {"code": order.code},
            body=_(
                "We have refunded %(amount)s %(currency)s of your order %(code)s to the means "
                "of payment you used. Depending on your bank it may take a few days to show."
            )
            % {"amount": refund.amount, "currency": refund.currency, "code": order.code},
            to=[order.email],
        )


def _refund_deliver_effects(
    *, order: Order, refund: Refund, payment: Payment, now: datetime
) -> None:
    """What a refund gives back besides money, once. Items already used (a ticket checked in
    at the gate) are never voided and keep their seats: they were delivered."""
    whole = refund.scope == RefundScope.ORDER or (
        refund.scope == RefundScope.GATEWAY and _given_back(payment) >= payment.amount
    )
    if whole and order.status == OrderStatus.PAID:
        lines = list(order.lines.all())
        for handler in handlers_for([line.kind for line in lines]):
            handler.refunded(
                order=order,
                lines=[(line, line.quantity) for line in lines if line.kind == handler.kind],
            )
        order.status = OrderStatus.CANCELED
        order.canceled_at = now
        order.cancel_reason = (refund.reason or "refunded")[:200]
        order.save(update_fields=["status", "canceled_at", "cancel_reason", "updated_at"])
    elif refund.scope == RefundScope.LINES:
        by_id = {line.pk: line for line in order.lines.all()}
        items = [(by_id[item["line"]], item["quantity"]) for item in refund.lines]
        for handler in handlers_for([line.kind for line, _quantity in items]):
            handler.refunded(
                order=order, lines=[(ln, qty) for ln, qty in items if ln.kind == handler.kind]
            )


def _given_back(payment: Payment) -> Decimal:
    total = payment.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(total=Sum("amount"))
    return (total["total"] or Decimal("0.00")).quantize(Decimal("0.01"))


def _payment_status_from_refunds(payment: Payment) -> None:
    given_back = _given_back(payment)
    status = (
        PaymentStatus.REFUNDED
        if given_back >= payment.amount
        else PaymentStatus.PARTIALLY_REFUNDED
        if given_back > 0
        else PaymentStatus.SUCCEEDED
    )
    if payment.status != status:
        payment.status = status
        payment.save(update_fields=["status", "updated_at"])


def _refund_reverse(*, refund: Refund, message: str) -> None:
    """The gateway confirmed a refund and then failed it (Stripe: the buyer's card was closed;
    the money came back to the park). What was voided stays voided; the refund shows failed
    and finance is told, to give the money back another way or retry it."""
    payment = lock_rows(Payment.objects.filter(pk=refund.payment_id))[0]
    refund.status = RefundStatus.FAILED
    refund.failure_message = (message or _("The payment provider failed the refund."))[:300]
    refund.save(update_fields=["status", "failure_message", "updated_at"])
    _payment_status_from_refunds(payment)
    audit.record(
        action="payments.refund.reversed",
        actor=audit.SYSTEM,
        target=refund,
        metadata={
            "order": payment.order.code,
            "amount": refund.amount,
            "reason": refund.failure_message,
        },
    )
    finance = finance_emails()
    if finance:
        email_send_on_commit(
            subject=_("A refund of order %(code)s failed after it went through")
            % {"code": payment.order.code},
            body=_(
                "The payment provider failed the refund of %(amount)s %(currency)s of order "
                "%(code)s after confirming it (%(reason)s). The money is back with the park: "
                "retry the refund or give it back another way."
            )
            % {
                "amount": refund.amount,
                "currency": refund.currency,
                "code": payment.order.code,
                "reason": refund.failure_message,
            },
            to=finance,
        )


def finance_emails() -> list[str]:
    return list(
        User.objects.filter(groups__name=Role.FINANCE, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def _refund_fail(*, refund: Refund, message: str) -> None:
    refund.status = RefundStatus.FAILED
    refund.failure_message = (message or _("The payment provider refused the refund."))[:300]
    refund.save(update_fields=["status", "failure_message", "updated_at"])
    audit.record(
        action="payments.refund.failed",
        actor=audit.SYSTEM,
        target=refund,
        metadata={
            "order": refund.payment.order.code,
            "amount": refund.amount,
            "reason": refund.failure_message,
        },
    )


def refunds_reconcile(*, payment: Payment) -> int:
    """Bring this payment's refunds in line with what the gateway says (a ``refunds_changed``
    event, in whatever order events came). Returns how many refunds changed.

    A gateway refund the park does not know of was made in the gateway's dashboard: it is
    recorded (money only), unless a pending or failed refund of the same amount without a
    gateway id is the park's own whose answer was lost (then that one is completed).
    """
    gateway = get_gateway(payment.method)
    if gateway is None:
        return 0
    told = gateway.refunds(
        gateway_reference=payment.gateway_reference,
        capture_reference=payment.capture_reference,
    )
    changed = 0
    for remote in told:
        if not remote.gateway_reference:
            continue
        with transaction.atomic():
            order = lock_order(payment.order_id)
            payment = lock_payment(payment.pk)
            if payment.status not in CAPTURED_STATUSES:
                raise ConflictError(
                    _("The payment is not settled yet; its refunds are reconciled after it."),
                    code=errors.NOT_SETTLED_YET,
                )
            refund = _matching_refund(payment, remote)
            if refund is None:
                if remote.outcome == RefundOutcome.FAILED or remote.amount_minor is None:
                    continue
                refund = Refund.objects.create(
                    payment=payment,
                    amount=from_minor_units(remote.amount_minor, payment.currency),
                    currency=payment.currency,
                    status=RefundStatus.PENDING,
                    scope=RefundScope.GATEWAY,
                    gateway_reference=remote.gateway_reference,
                    reason="refunded in the gateway",
                )
                audit.record(
                    action="payments.refund.recorded",
                    actor=audit.SYSTEM,
                    target=refund,
                    metadata={"order": order.code, "amount": refund.amount},
                )
                changed += 1
            elif not refund.gateway_reference:
                refund.gateway_reference = remote.gateway_reference
                refund.save(update_fields=["gateway_reference", "updated_at"])
            if (
                remote.outcome == RefundOutcome.SUCCEEDED
                and refund.status != RefundStatus.SUCCEEDED
            ):
                _refund_succeed(order=order, refund=refund)
                changed += 1
            elif remote.outcome == RefundOutcome.FAILED and refund.status == RefundStatus.PENDING:
                _refund_fail(refund=refund, message=remote.failure_message)
                changed += 1
            elif remote.outcome == RefundOutcome.FAILED and refund.status == RefundStatus.SUCCEEDED:
                _refund_reverse(refund=refund, message=remote.failure_message)
                changed += 1
    return changed


def _matching_refund(payment: Payment, remote: RefundResult) -> Refund | None:
    known = payment.refunds.filter(gateway_reference=remote.gateway_reference).first()
    if known is not None or remote.amount_minor is None:
        return known
    amount = from_minor_units(remote.amount_minor, payment.currency)
    return (
        payment.refunds.filter(
            gateway_reference="",
            amount=amount,
            status__in=(RefundStatus.PENDING, RefundStatus.FAILED),
        )
        .order_by("pk")
        .first()
    )


def _captured_payment(order: Order) -> Payment:
    payment = (
        order.payments.filter(
            status__in=(PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
        )
        .order_by("-amount", "pk")
        .first()
    )
    if payment is None:
        raise ConflictError(
            _("This order has no payment left to refund."), code=errors.NOTHING_TO_REFUND
        )
    return payment


def _refunded_quantities(payment: Payment) -> dict[int, int]:
    """How many items of each line refunds of lines gave back, or are giving back."""
    refunded: dict[int, int] = {}
    for earlier in payment.refunds.filter(status__in=RESERVING, scope=RefundScope.LINES):
        for item in earlier.lines:
            refunded[item["line"]] = refunded.get(item["line"], 0) + item["quantity"]
    return refunded


def _refuse_money_only_over_standing_items(order: Order, payment: Payment) -> None:
    """An amount is given back with every item standing: not while the order holds an item of
    a kind that must not stand once paid back (a gift), which is refunded by its line."""
    refunded = _refunded_quantities(payment)
    for line in order.lines.all():
        if not allows_money_only_refunds(line.kind) and line.quantity > refunded.get(line.pk, 0):
            raise ConflictError(
                _(
                    "This order holds %(item)s, which an amount cannot give back: refund it by "
                    "its line (line %(line)s), or refund the whole order."
                )
                % {"item": line.description, "line": line.pk},
                code=errors.REFUND_BY_LINES,
                field="amount",
            )


def _checked_lines(
    order: Order, payment: Payment, wanted: Sequence[LineRefund]
) -> list[tuple[OrderLine, int]]:
    """The lines asked for, each within what of it has not been refunded yet."""
    by_id = {line.pk: line for line in order.lines.all()}
    refunded = _refunded_quantities(payment)
    items: dict[int, int] = {}
    for index, item in enumerate(wanted):
        line = by_id.get(item.line)
        if line is None:
            raise ServiceError(
                _("Line %(line)s is not a line of this order.") % {"line": item.line},
                code=errors.REFUND_INVALID,
                field=f"lines.{index}.line",
            )
        items[line.pk] = items.get(line.pk, 0) + item.quantity
        left = line.quantity - refunded.get(line.pk, 0)
        if items[line.pk] > left:
            raise ConflictError(
                _("Only %(left)d of line %(line)s can still be refunded.")
                % {"left": left, "line": line.pk},
                code=errors.REFUND_EXCEEDS_CAPTURED,
                field=f"lines.{index}.quantity",
            )
    return [(by_id[line_id], quantity) for line_id, quantity in items.items()]
