"""Reconciliation with the gateways: a read of one of the park's days comparing each gateway's
stored statement (``GatewayStatement``) with the park's payments and refunds (docs/adr/0031).

A gateway's line and a park record are the same movement when they share a reference: a
payment by its payment reference (Stripe intent, sandbox reference) or capture reference
(PayPal capture), a refund by the refund's id. A park record of the day is looked for in the
statements of the day before and after too, since the gateway may date a movement a little
earlier or later than the park (Stripe dates an intent when it was created).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from apps.integrations.payments import enabled_gateways

from .models import (
    CAPTURED_STATUSES,
    COUNTER_METHODS,
    GatewayStatement,
    GatewayStatementLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StatementLineKind,
    StatementLineStatus,
    StatementStatus,
)

PAID_AT_GATEWAY_NOT_IN_PARK = "paid_at_gateway_not_in_park"
PAID_IN_PARK_NOT_AT_GATEWAY = "paid_in_park_not_at_gateway"
AMOUNT_DIFFERS = "amount_differs"
REFUND_AT_GATEWAY_NOT_IN_PARK = "refund_at_gateway_not_in_park"
REFUND_IN_PARK_NOT_AT_GATEWAY = "refund_in_park_not_at_gateway"
STATEMENT_MISSING = "statement_missing"
STATEMENT_FAILED = "statement_failed"
DIFFERENCE_CODES = (
    PAID_AT_GATEWAY_NOT_IN_PARK,
    PAID_IN_PARK_NOT_AT_GATEWAY,
    AMOUNT_DIFFERS,
    REFUND_AT_GATEWAY_NOT_IN_PARK,
    REFUND_IN_PARK_NOT_AT_GATEWAY,
    STATEMENT_MISSING,
    STATEMENT_FAILED,
)
ZERO = Decimal("0.00")


def local_day(day: date) -> tuple[datetime, datetime]:
    """The park's day ``day`` (``TIME_ZONE``) as a UTC range: start included, end excluded."""
    zone = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


@dataclass
class Totals:
    count: int = 0
    amount: Decimal = ZERO

    def add(self, amount: Decimal) -> None:
        self.count += 1
        self.amount = (self.amount + amount).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Item:
    """One movement as the gateway and the park recorded it (``None``/"" where one did not).
    ``code`` names the difference; empty for a matched item."""

    kind: str
    order: str = ""
    gateway_reference: str = ""
    capture_reference: str = ""
    refund_reference: str = ""
    gateway_amount: Decimal | None = None
    park_amount: Decimal | None = None
    currency: str = ""
    gateway_status: str = ""
    park_status: str = ""
    code: str = ""
    detail: str = ""


@dataclass
class GatewayReconciliation:
    gateway: str
    statement_status: str  # ok, failed, missing
    fetched_at: datetime | None = None
    error: str = ""
    gateway_payments: Totals = field(default_factory=Totals)
    gateway_refunds: Totals = field(default_factory=Totals)
    park_payments: Totals = field(default_factory=Totals)
    park_refunds: Totals = field(default_factory=Totals)
    matched: list[Item] = field(default_factory=list)
    differences: list[Item] = field(default_factory=list)


@dataclass
class CounterTotals:
    """Cash and card-present money: no gateway states it; the park's totals only."""

    method: str
    payments: Totals = field(default_factory=Totals)
    refunds: Totals = field(default_factory=Totals)


@dataclass
class Reconciliation:
    date: date
    currency: str
    gateways: list[GatewayReconciliation]
    counter: list[CounterTotals]

    @property
    def differences_count(self) -> int:
        return sum(len(gateway.differences) for gateway in self.gateways)


def reconciliation(day: date) -> Reconciliation:
    """Each gateway's statement of ``day`` against the park's records of it."""
    start, end = local_day(day)
    payments = list(
        Payment.objects.filter(
            succeeded_at__gte=start, succeeded_at__lt=end, status__in=CAPTURED_STATUSES
        )
        .select_related("order")
        .order_by("succeeded_at", "id")
    )
    refunds = list(
        Refund.objects.filter(
            completed_at__gte=start, completed_at__lt=end, status=RefundStatus.SUCCEEDED
        )
        .select_related("payment__order")
        .order_by("completed_at", "id")
    )
    statements = {
        statement.gateway: statement
        for statement in GatewayStatement.objects.filter(date=day).prefetch_related("lines")
    }
    online = [method for method in enabled_gateways() if method not in COUNTER_METHODS]
    others = set(statements) | {p.method for p in payments} | {r.payment.method for r in refunds}
    names = online + sorted(others - set(online) - set(COUNTER_METHODS))
    nearby = _nearby_lines(day, names)
    gateways = [
        _reconcile(
            name,
            statements.get(name),
            [p for p in payments if p.method == name],
            [r for r in refunds if r.payment.method == name],
            nearby.get(name, []),
        )
        for name in names
    ]
    counter = []
    for method in COUNTER_METHODS:
        totals = CounterTotals(method=method)
        for payment in payments:
            if payment.method == method:
                totals.payments.add(payment.amount)
        for refund in refunds:
            if refund.payment.method == method:
                totals.refunds.add(refund.amount)
        counter.append(totals)
    return Reconciliation(
        date=day, currency=settings.PAYMENTS_CURRENCY, gateways=gateways, counter=counter
    )


def _nearby_lines(day: date, names: list[str]) -> dict[str, list[GatewayStatementLine]]:
    """The succeeded lines of the fetched statements of the day before, the day and the day
    after: where a park record of the day may be found."""
    lines: dict[str, list[GatewayStatementLine]] = {}
    for line in GatewayStatementLine.objects.filter(
        statement__gateway__in=names,
        statement__status=StatementStatus.OK,
        statement__date__range=(day - timedelta(days=1), day + timedelta(days=1)),
        status=StatementLineStatus.SUCCEEDED,
    ).select_related("statement"):
        lines.setdefault(line.statement.gateway, []).append(line)
    return lines


def _reconcile(
    name: str,
    statement: GatewayStatement | None,
    payments: list[Payment],
    refunds: list[Refund],
    nearby: list[GatewayStatementLine],
) -> GatewayReconciliation:
    result = GatewayReconciliation(
        gateway=name,
        statement_status=statement.status if statement is not None else "missing",
        fetched_at=statement.fetched_at if statement is not None else None,
        error=statement.error if statement is not None else "",
    )
    for payment in payments:
        result.park_payments.add(payment.amount)
    for refund in refunds:
        result.park_refunds.add(refund.amount)
    if statement is None:
        result.differences.append(Item(kind="", code=STATEMENT_MISSING))
        return result
    if statement.status == StatementStatus.FAILED:
        result.differences.append(Item(kind="", code=STATEMENT_FAILED, detail=statement.error))
        return result
    lines = list(statement.lines.all())
    seen_payments: set[int] = set()
    seen_refunds: set[int] = set()
    _payment_lines(result, name, lines, seen_payments)
    _refund_lines(result, name, lines, seen_refunds)
    at_gateway = {
        ref for line in nearby for ref in (line.gateway_reference, line.capture_reference)
    }
    refunded_at_gateway = {line.refund_reference for line in nearby}
    for payment in payments:
        if payment.pk in seen_payments:
            continue
        if not ({payment.gateway_reference, payment.capture_reference} - {""}) & at_gateway:
            result.differences.append(
                _payment_item(payment, None, code=PAID_IN_PARK_NOT_AT_GATEWAY)
            )
    for refund in refunds:
        if refund.pk in seen_refunds or refund.amount == 0:
            continue
        if not refund.gateway_reference or refund.gateway_reference not in refunded_at_gateway:
            result.differences.append(
                _refund_item(refund, None, code=REFUND_IN_PARK_NOT_AT_GATEWAY)
            )
    return result


def _payment_lines(
    result: GatewayReconciliation,
    name: str,
    lines: list[GatewayStatementLine],
    seen: set[int],
) -> None:
    mine = [line for line in lines if line.kind == StatementLineKind.PAYMENT]
    references = _references(mine, "gateway_reference") | _references(mine, "capture_reference")
    known = Payment.objects.filter(
        Q(gateway_reference__in=references) | Q(capture_reference__in=references), method=name
    ).annotate(
        refunding=Exists(
            Refund.objects.filter(
                payment=OuterRef("pk"),
                status__in=(RefundStatus.PENDING, RefundStatus.SUCCEEDED),
            )
        )
    )
    by_reference: dict[str, Payment] = {}
    for found in known.select_related("order"):
        for reference in (found.gateway_reference, found.capture_reference):
            if reference:
                by_reference[reference] = found
    for line in mine:
        payment = by_reference.get(line.gateway_reference) or by_reference.get(
            line.capture_reference
        )
        if payment is not None:
            seen.add(payment.pk)
        if line.status != StatementLineStatus.SUCCEEDED:
            if payment is not None and payment.status in CAPTURED_STATUSES:
                result.differences.append(
                    _payment_item(payment, line, code=PAID_IN_PARK_NOT_AT_GATEWAY)
                )
            continue
        result.gateway_payments.add(line.amount)
        if payment is None or not _park_holds(payment):
            result.differences.append(
                _payment_item(payment, line, code=PAID_AT_GATEWAY_NOT_IN_PARK)
            )
        elif payment.amount != line.amount:
            result.differences.append(_payment_item(payment, line, code=AMOUNT_DIFFERS))
        else:
            result.matched.append(_payment_item(payment, line))


def _refund_lines(
    result: GatewayReconciliation,
    name: str,
    lines: list[GatewayStatementLine],
    seen: set[int],
) -> None:
    mine = [line for line in lines if line.kind == StatementLineKind.REFUND]
    known = {
        refund.gateway_reference: refund
        for refund in Refund.objects.filter(
            payment__method=name, gateway_reference__in=_references(mine, "refund_reference")
        ).select_related("payment__order")
    }
    for line in mine:
        refund = known.get(line.refund_reference)
        if refund is not None:
            seen.add(refund.pk)
        if line.status != StatementLineStatus.SUCCEEDED:
            if refund is not None and refund.status == RefundStatus.SUCCEEDED:
                result.differences.append(
                    _refund_item(refund, line, code=REFUND_IN_PARK_NOT_AT_GATEWAY)
                )
            continue
        result.gateway_refunds.add(line.amount)
        if refund is None or refund.status != RefundStatus.SUCCEEDED:
            result.differences.append(
                _refund_item(refund, line, code=REFUND_AT_GATEWAY_NOT_IN_PARK)
            )
        elif refund.amount != line.amount:
            result.differences.append(_refund_item(refund, line, code=AMOUNT_DIFFERS))
        else:
            result.matched.append(_refund_item(refund, line))


def _references(lines: Iterable[GatewayStatementLine], name: str) -> set[str]:
    return {getattr(line, name) for line in lines} - {""}


def _park_holds(payment: Payment) -> bool:
    """The park recorded the money as taken: a captured payment whose order is paid, or whose
    money it is giving back (an order cancelled or never deliverable, refunded)."""
    if payment.status not in CAPTURED_STATUSES:
        return False
    return (
        payment.order.status == OrderStatus.PAID
        or payment.status != PaymentStatus.SUCCEEDED
        or bool(getattr(payment, "refunding", False))
    )


def _payment_item(
    payment: Payment | None, line: GatewayStatementLine | None, *, code: str = ""
) -> Item:
    park_status = ""
    if payment is not None:
        park_status = f"{payment.status}/{payment.order.status}"
    return Item(
        kind=StatementLineKind.PAYMENT,
        order=payment.order.code if payment is not None else "",
        gateway_reference=(line.gateway_reference if line else "")
        or (payment.gateway_reference if payment else ""),
        capture_reference=(line.capture_reference if line else "")
        or (payment.capture_reference if payment else ""),
        gateway_amount=line.amount if line is not None else None,
        park_amount=payment.amount if payment is not None else None,
        currency=line.currency if line is not None else payment.currency if payment else "",
        gateway_status=line.status if line is not None else "",
        park_status=park_status,
        code=code,
    )


def _refund_item(
    refund: Refund | None, line: GatewayStatementLine | None, *, code: str = ""
) -> Item:
    payment = refund.payment if refund is not None else None
    return Item(
        kind=StatementLineKind.REFUND,
        order=payment.order.code if payment is not None else "",
        gateway_reference=(line.gateway_reference if line else "")
        or (payment.gateway_reference if payment else ""),
        capture_reference=(line.capture_reference if line else "")
        or (payment.capture_reference if payment else ""),
        refund_reference=line.refund_reference
        if line
        else refund.gateway_reference
        if refund
        else "",
        gateway_amount=line.amount if line is not None else None,
        park_amount=refund.amount if refund is not None else None,
        currency=line.currency if line is not None else refund.currency if refund else "",
        gateway_status=line.status if line is not None else "",
        park_status=refund.status if refund is not None else "",
        code=code,
    )
