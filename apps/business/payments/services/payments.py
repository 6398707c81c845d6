"""Payments: start with a gateway or at the counter, settle, fail, refund."""

import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.integrations.payments import (
    GatewayError,
    PaymentOutcome,
    PaymentRequest,
    PaymentResult,
    get_gateway,
)
from apps.support.audit import services as audit
from apps.support.common.errors import (
    ConflictError,
    ForbiddenError,
    PaymentRequiredError,
    ServiceError,
)
from apps.support.common.locking import (
    BUSY,
    is_lock_failure,
    lock_row_if_free,
)
from apps.support.security.models import User
from apps.support.security.roles import COUNTER_STAFF, has_any_role

from .. import errors
from ..handlers import LineRequest, handlers_for
from ..models import (
    COUNTER_METHODS,
    Channel,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    RefundScope,
)
from ..selectors import order_with_relations
from ..signals import order_paid
from . import refunds
from .common import (
    lock_order,
    lock_payment,
    order_lines,
    order_payments_with_refunds,
    payment_attempt_new,
    to_minor_units,
)
from .orders import order_place

SETTLE_ATTEMPTS = 3

logger = logging.getLogger(__name__)

# --- Payments ---------------------------------------------------------------------------


def order_pay(
    *, order: Order, actor: User | None, method: str, options: dict[str, Any] | None = None
) -> Payment:
    """Pay ``order`` with a gateway (online) or record a counter payment (ticket office).

    Returns the payment: ``succeeded`` (the order is paid and its tickets issued) or
    ``pending`` (the gateway confirms later through its webhook). A declined payment raises
    ``PaymentRequiredError`` and leaves the order payable until its hold expires.
    """
    options = options or {}
    _method_check(actor=actor, method=method, options=options)
    with transaction.atomic():
        order = lock_order(order.pk)
        if order.status == OrderStatus.PAID:
            raise ConflictError(_("The order is already paid."), code=errors.ALREADY_PAID)
        # An expired order may still be paid while its seats are free (taken again then).
        if order.status not in (OrderStatus.PENDING, OrderStatus.EXPIRED):
            raise ConflictError(
                _("A %(status)s order cannot be paid.") % {"status": order.get_status_display()},
                code=errors.ORDER_NOT_PAYABLE,
            )
        in_flight = order.payments.filter(status=PaymentStatus.PENDING).first()
        interrupted = None
        if in_flight is not None and in_flight.gateway_outcome == "":
            interrupted = _attempt_take_over(in_flight)
            if interrupted is None:
                raise _in_progress()
            in_flight = None if interrupted.status == PaymentStatus.FAILED else interrupted
        if (
            in_flight is not None
            and in_flight.gateway_outcome == PaymentOutcome.PENDING
            and in_flight.method != method
        ):
            # The buyer left that attempt for another gateway. Should they finish it after
            # all, its late settlement is handled like any late one (paid or refunded).
            _payment_abandon(in_flight)
            in_flight = None
        if in_flight is None:
            payment = payment_attempt_new(order=order, method=method, actor=actor)
    if interrupted is not None and in_flight is not None:
        # The call that started this attempt died before it recorded the gateway's answer, and
        # that start may have charged: ask again under the attempt's own key, so the gateway
        # answers for that attempt (never a second charge).
        if in_flight.method == method:
            return _payment_start(payment=in_flight, options=options, actor=actor)
        # Declined: nothing stands in the way of this call's own attempt.
        with contextlib.suppress(PaymentRequiredError):
            _payment_start(payment=in_flight, options={}, actor=actor)
        # Now that the earlier attempt has its answer, this call pays as asked: it hears
        # "already paid" if that attempt paid the order, else its own attempt starts.
        return order_pay(order=order, actor=actor, method=method, options=options)
    if in_flight is not None:
        if in_flight.gateway_outcome == PaymentOutcome.SUCCEEDED:
            # The gateway took the money but settling it was interrupted (a lock timed out):
            # finish that payment instead of charging again.
            return _settled_by_this_call(
                payment=in_flight,
                gateway_reference=in_flight.gateway_reference,
                capture_reference=in_flight.capture_reference,
                actor=actor,
            )
        # Started and waiting for the buyer or the gateway (Stripe.js confirmed the intent,
        # the buyer approved on PayPal): ask where it stands, capturing when the park must.
        return _payment_resume(payment=in_flight, actor=actor)

    return _payment_start(payment=payment, options=options, actor=actor)


def _method_check(*, actor: User | None, method: str, options: dict[str, Any]) -> None:
    """Refuse, before anything is written, a means of payment this caller may not use."""
    if method in COUNTER_METHODS:
        if not has_any_role(actor, COUNTER_STAFF):
            raise ForbiddenError(
                _("Cash and card-present payments are recorded by the ticket office."),
                code=errors.COUNTER_ONLY,
                field="gateway",
            )
    elif get_gateway(method) is None:
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


def order_buy(
    *,
    actor: User | None,
    lines: Sequence[LineRequest],
    method: str,
    options: dict[str, Any] | None = None,
    channel: str = Channel.ONLINE,
    email: str = "",
) -> Payment:
    """Create an order and pay it in one call: ``order_create`` with its payment attempt
    recorded in the same transaction, then the gateway asked outside it, as ``order_pay``
    would. Returns the payment (``succeeded``, or ``pending`` when the gateway confirms later;
    ``payment.order`` is the order, with ``guest_token`` for a guest).

    Refusals about the order or the means of payment come before anything is written. Once
    the order exists, a payment that did not go through (declined, gateway unavailable, busy)
    raises its usual error with ``details["order"]`` (and a guest's ``guest_token``): the order
    stays payable with ``pay`` while its hold lasts.
    """
    options = options or {}
    _method_check(actor=actor, method=method, options=options)
    order, placed = order_place(
        actor=actor, lines=lines, channel=channel, email=email, payment_method=method
    )
    payment = cast(Payment, placed)  # recorded with the order: a method was given
    payment.order = order
    try:
        payment = _payment_start(payment=payment, options=options, actor=actor)
    except ServiceError as error:
        _order_kept(error, order)
        raise
    except OperationalError as error:  # a lock not had in time, outside the retried settling
        if not is_lock_failure(error):
            raise
        raise _order_kept(_busy(), order) from error
    payment.order.guest_token = order.guest_token  # type: ignore[attr-defined]  # shown once
    return payment


def _order_kept(error: ServiceError, order: Order) -> ServiceError:
    """Make ``error`` tell of an order that was created and stays payable: it names the order
    (and a guest's token, shown this once), and says so, since a retry of the same request with the
    same Idempotency-Key is answered with this very refusal: the order is paid with ``pay``."""
    token = getattr(order, "guest_token", "")
    error.details = {
        **(error.details or {}),
        "order": order.pk,
        **({"guest_token": token} if token else {}),
    }
    error.message = _("%(refusal)s Order %(code)s was kept: pay it while its seats are held.") % {
        "refusal": error.message,
        "code": order.code,
    }
    error.args = (error.message,)
    return error


def _payment_start(*, payment: Payment, options: dict[str, Any], actor: User | None) -> Payment:
    """Ask the payment's gateway for the money (outside any transaction), under the attempt's
    own idempotency key, then record and apply its answer. Asked again for the same attempt,
    the gateway answers for it (never a second charge)."""
    order = payment.order
    held_since = payment.updated_at  # this call's hold on the attempt (a take-over moves it)
    gateway = None if payment.method in COUNTER_METHODS else get_gateway(payment.method)
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
                    idempotency_key=f"payment-{order.code}-{payment.pk}",
                    options=options,
                )
            )
        except GatewayError as error:
            if not payment_fail(
                payment=payment,
                code=errors.GATEWAY_UNAVAILABLE,
                message=str(error),
                held_since=held_since,
            ):
                # Another call took the attempt over meanwhile (this one had been stalled for
                # longer than the window): its answer stands, not this one's silence.
                if payment.status == PaymentStatus.SUCCEEDED:
                    raise ConflictError(
                        _("The order is already paid."), code=errors.ALREADY_PAID
                    ) from error
                raise _in_progress() from error
            raise ConflictError(
                _("The payment provider did not answer; nothing was charged. Try again."),
                code=errors.GATEWAY_UNAVAILABLE,
                retry_after=5,
            ) from error
    # Known before anything can fail: what the gateway said, and its reference (webhooks find
    # the payment by it; a retry of pay/ resumes a payment the gateway approved). A slow call
    # whose attempt was taken over may find the answer recorded already (the same answer: one
    # key): the start is then not recorded twice.
    first = Payment.objects.filter(pk=payment.pk, gateway_outcome="").update(
        gateway_reference=result.gateway_reference,
        capture_reference=result.capture_reference,
        gateway_outcome=result.outcome,
        updated_at=timezone.now(),
    )
    payment.gateway_reference, payment.gateway_outcome = result.gateway_reference, result.outcome
    payment.capture_reference = result.capture_reference
    if not first and result.outcome == PaymentOutcome.PENDING:
        payment.refresh_from_db()
        return payment
    return _payment_apply(payment=payment, result=result, actor=actor)


def _in_progress() -> ConflictError:
    return ConflictError(
        _("A payment of this order is being confirmed; try again in a moment."),
        code=errors.PAYMENT_IN_PROGRESS,
        retry_after=5,
    )


def _attempt_take_over(payment: Payment) -> Payment | None:
    """Inside a transaction holding the order's lock: an attempt whose gateway answer was never
    recorded. ``None`` while the call that started it may still be waiting for the gateway.

    Past ``PAYMENTS_ATTEMPT_ABANDONED_SECONDS`` that call is gone (its process was killed, or
    the request timed out). An attempt whose start cannot have taken money (Stripe and PayPal
    wait for the buyer, who never saw this attempt; the counter's till is the cashier's to
    check; a gateway switched off since cannot be asked) is failed, so the order is payable
    again. One whose start may have charged (the sandbox) becomes this caller's to ask again
    under its own key: its clock restarts, so one caller holds it at a time.
    """
    now = timezone.now()
    if payment.updated_at > now - timedelta(seconds=settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS):
        return None
    gateway = None if payment.method in COUNTER_METHODS else get_gateway(payment.method)
    if gateway is None or not gateway.charges_on_start:
        _payment_abandon(
            payment,
            code=errors.INTERRUPTED,
            message="Interrupted before the gateway's answer was recorded.",
            action="payments.payment.failed",
        )
        return payment
    Payment.objects.filter(pk=payment.pk).update(updated_at=now)
    payment.updated_at = now
    audit.record(
        action="payments.payment.resumed",
        target=payment,
        metadata={"order": payment.order.code, "method": payment.method},
    )
    return payment


def payments_resume_interrupted(*, limit: int = 100) -> int:
    """Settle the attempts nobody came back to after the call that started them died (a
    periodic job), as a retry of ``pay`` would: failed when their start cannot have charged,
    else asked again under their own key (the gateway may hold the buyer's money). Rows in
    use are skipped, never waited for; one attempt that fails unexpectedly is logged and goes
    to the back of the queue, the others are still taken. Returns how many were taken over."""
    abandoned = timezone.now() - timedelta(seconds=settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS)
    due = list(
        Payment.objects.filter(
            status=PaymentStatus.PENDING, gateway_outcome="", updated_at__lte=abandoned
        )
        .order_by("updated_at", "pk")
        .values_list("pk", "order_id")[:limit]
    )
    taken = 0
    for payment_id, order_id in due:
        try:
            with transaction.atomic():
                if lock_row_if_free(Order.objects.filter(pk=order_id)) is None:
                    continue
                payment = (
                    Payment.objects.select_related("order")
                    .filter(pk=payment_id, status=PaymentStatus.PENDING, gateway_outcome="")
                    .first()
                )
                payment = payment and _attempt_take_over(payment)
        except OperationalError as error:  # the audit chain head was not had in time
            if is_lock_failure(error):
                continue
            raise
        if payment is None:
            continue
        taken += 1
        if payment.status == PaymentStatus.PENDING:
            try:
                _payment_start(payment=payment, options={}, actor=None)
            except (ConflictError, PaymentRequiredError) as error:
                logger.info("Interrupted payment %s: %s", payment.pk, error)
            except Exception:
                logger.exception("Interrupted payment %s could not be asked again.", payment.pk)
    return taken


def _payment_abandon(
    payment: Payment,
    *,
    code: str = errors.ABANDONED,
    message: str = "Left for another means of payment.",
    action: str = "payments.payment.abandoned",
) -> None:
    """Inside the paying transaction (order locked): an attempt nobody will finish, failed
    (left for another gateway, or interrupted, docs/adr/0046)."""
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.FAILED,
        failure_code=code,
        failure_message=message,
        next_action=None,
        updated_at=timezone.now(),
    )
    payment.status = PaymentStatus.FAILED
    audit.record(
        action=action,
        target=payment,
        metadata={"order": payment.order.code, "method": payment.method, "code": code},
    )


def _payment_resume(*, payment: Payment, actor: User | None) -> Payment:
    """Ask the gateway where a started payment stands (outside any transaction)."""
    gateway = get_gateway(payment.method)
    if gateway is None:
        raise _in_progress()
    try:
        result = gateway.resume_payment(
            gateway_reference=payment.gateway_reference,
            idempotency_key=f"capture-{payment.order.code}-{payment.pk}",
        )
    except GatewayError as error:
        raise ConflictError(
            _("The payment provider did not answer; try again in a moment."),
            code=errors.GATEWAY_UNAVAILABLE,
            retry_after=5,
        ) from error
    if result.outcome == PaymentOutcome.PENDING:
        if result.next_action and result.next_action != payment.next_action:
            Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
                next_action=result.next_action, updated_at=timezone.now()
            )
            payment.next_action = result.next_action
        return payment
    return _payment_apply(payment=payment, result=result, actor=actor)


def payment_resume(*, payment: Payment) -> Payment:
    """Settle a started payment from the gateway's state (the ``payment_approved`` webhook:
    the buyer approved on PayPal, the park captures). Idempotent."""
    if payment.status != PaymentStatus.PENDING:
        return payment
    try:
        return _payment_resume(payment=payment, actor=None)
    except PaymentRequiredError:
        payment.refresh_from_db()
        return payment


def _payment_apply(*, payment: Payment, result: PaymentResult, actor: User | None) -> Payment:
    if result.outcome == PaymentOutcome.DECLINED:
        payment_fail(payment=payment, code=result.failure_code, message=result.failure_message)
        raise PaymentRequiredError(
            _("The payment was declined: %(reason)s")
            % {"reason": result.failure_message or result.failure_code},
            code=errors.PAYMENT_DECLINED,
        )
    if result.outcome == PaymentOutcome.PENDING:
        with transaction.atomic():
            payment.next_action = result.next_action
            payment.save(update_fields=["next_action", "updated_at"])
            audit.record(
                action="payments.payment.started",
                actor=actor,
                target=payment,
                metadata={"order": payment.order.code, "method": payment.method},
            )
        return payment
    return _settled_by_this_call(
        payment=payment,
        gateway_reference=result.gateway_reference,
        capture_reference=result.capture_reference,
        actor=actor,
    )


def _settled_by_this_call(
    *, payment: Payment, gateway_reference: str, capture_reference: str, actor: User | None
) -> Payment:
    """Exactly one ``pay`` call answers that it paid the order: the one that settled it.

    Another call may have settled the same payment first (it resumed it while this one was
    still talking to the gateway); this one then says the order is already paid.
    """
    payment, settled_now = _payment_succeed(
        payment=payment,
        gateway_reference=gateway_reference,
        capture_reference=capture_reference,
        actor=actor,
    )
    if not settled_now:
        raise ConflictError(_("The order is already paid."), code=errors.ALREADY_PAID)
    return payment


def payment_fail(
    *, payment: Payment, code: str, message: str, held_since: datetime | None = None
) -> bool:
    """Record that ``payment`` failed, unless it is no longer pending (or, with
    ``held_since``, no longer held by the caller: another call took it over). Returns whether
    it was failed by this call."""
    with transaction.atomic():
        still = Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING)
        if held_since is not None:
            still = still.filter(updated_at=held_since)
        failed = still.update(
            status=PaymentStatus.FAILED,
            failure_code=code[:64],
            failure_message=message[:300],
            next_action=None,
            updated_at=timezone.now(),
        )
        if not failed:
            payment.refresh_from_db()
            return False
        audit.record(
            action="payments.payment.failed",
            target=payment,
            metadata={"order": payment.order.code, "method": payment.method, "code": code},
        )
    payment.refresh_from_db()
    return True


def payment_succeed(
    *,
    payment: Payment,
    gateway_reference: str,
    capture_reference: str = "",
    actor: User | None = None,
) -> Payment:
    """The gateway took the money: the order is paid and its items delivered.

    Idempotent (a second confirmation changes nothing). When the hold had run out and its
    seats were sold meanwhile, the money is refunded and ``ConflictError`` says so.
    """
    return _payment_succeed(
        payment=payment,
        gateway_reference=gateway_reference,
        capture_reference=capture_reference,
        actor=actor,
    )[0]


def _payment_succeed(
    *, payment: Payment, gateway_reference: str, capture_reference: str, actor: User | None
) -> tuple[Payment, bool]:
    """``payment_succeed``, also telling whether this call settled it (``False``: it was
    settled before)."""
    for attempt in range(SETTLE_ATTEMPTS):
        try:
            return _payment_settle(
                payment=payment,
                gateway_reference=gateway_reference,
                capture_reference=capture_reference,
                actor=actor,
            )
        except OperationalError as error:
            if not is_lock_failure(error):
                raise
            if attempt + 1 == SETTLE_ATTEMPTS:
                raise _busy() from error
        except ConflictError as conflict:
            if conflict.code == BUSY:
                if attempt + 1 == SETTLE_ATTEMPTS:
                    raise
                continue
            _refund_unfulfillable(
                payment=payment,
                reason=conflict.code,
                gateway_reference=gateway_reference,
                capture_reference=capture_reference,
            )
            raise
    raise AssertionError("unreachable")


def _busy() -> ConflictError:
    return ConflictError(
        _("Many people are buying right now; please try again in a moment."),
        code=BUSY,
        retry_after=1,
    )


def _payment_settle(
    *, payment: Payment, gateway_reference: str, capture_reference: str, actor: User | None
) -> tuple[Payment, bool]:
    with transaction.atomic():
        order = lock_order(payment.order_id)
        payment = lock_payment(payment.pk)
        if payment.status == PaymentStatus.SUCCEEDED:
            return payment, False
        # A failed payment that the gateway approves after all (a late webhook) took money:
        # it is settled like a pending one, or refunded below when it cannot be delivered.
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
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
        lines = order_lines(order.pk)
        now = timezone.now()
        payment.status = PaymentStatus.SUCCEEDED
        payment.gateway_reference = gateway_reference or payment.gateway_reference
        payment.capture_reference = capture_reference or payment.capture_reference
        payment.gateway_outcome = PaymentOutcome.SUCCEEDED
        payment.succeeded_at = now
        payment.next_action = None
        payment.save(
            update_fields=[
                "status",
                "gateway_reference",
                "capture_reference",
                "gateway_outcome",
                "succeeded_at",
                "next_action",
                "updated_at",
            ]
        )
        previous = order.status
        order.status = OrderStatus.PAID
        order.paid_at = now
        order.save(update_fields=["status", "paid_at", "updated_at"])
        order_with_relations(order, lines=lines, payments=order_payments_with_refunds(order.pk))
        payment = next(p for p in order.payments.all() if p.pk == payment.pk)
        # What the items lock (a slot's seats) is locked last: only the audit entry follows.
        for handler in handlers_for([line.kind for line in lines]):
            handler.paid(order=order)
        order_paid.send(sender=Order, order=order)
        audit.record(
            action="payments.order.paid",
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
    return payment, True


def _refund_unfulfillable(
    *, payment: Payment, reason: str, gateway_reference: str, capture_reference: str
) -> None:
    """Money taken for an order that can no longer be delivered goes straight back: the
    intent is recorded and committed, then the gateway is asked (docs/adr/0026)."""
    with transaction.atomic():
        lock_order(payment.order_id)
        payment = lock_payment(payment.pk)
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
            return
        # The gateway took the money: the payment is captured (then refunded), never paid.
        payment.status = PaymentStatus.SUCCEEDED
        payment.succeeded_at = timezone.now()
        payment.gateway_reference = gateway_reference or payment.gateway_reference
        payment.capture_reference = capture_reference or payment.capture_reference
        payment.next_action = None
        payment.save(
            update_fields=[
                "status",
                "succeeded_at",
                "gateway_reference",
                "capture_reference",
                "next_action",
                "updated_at",
            ]
        )
        refund = refunds.refund_open(
            payment=payment,
            amount=payment.amount,
            scope=RefundScope.UNFULFILLABLE,
            actor=None,
            reason=reason,
        )
        audit.record(
            action="payments.payment.unfulfillable",
            actor=audit.SYSTEM,
            target=payment,
            metadata={"order": payment.order.code, "reason": reason, "amount": refund.amount},
        )
    refunds.refund_send(refund=refund)
