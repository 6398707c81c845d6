"""Issuing invoices and credit notes (the writes of the invoicing module).

Issuing runs after the transaction that recorded the payment or the refund has committed (a
task queued on commit by ``receivers``), in a short transaction of its own that locks, in this
order (the same everywhere, so no two issuers deadlock):

    the order row → the counter row of the series and year → the audit chain head

The counter row stays locked until the commit: numbers are taken one at a time, and a
transaction that rolls back gives its number back with it, so each series counts 1, 2, 3…
every year without a gap or a repeat (docs/adr/0023). Both services are idempotent: an order
has one invoice, a refund one credit note, and asking again returns it.
``invoices_issue_missing`` issues what a lost task left undone (a worker that died between
the commit and the issue).
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.business.payments.handlers import is_tax_exempt
from apps.business.payments.models import Order, OrderLine, Refund, RefundScope, RefundStatus
from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, NotFoundError
from apps.support.common.locking import BUSY, is_lock_failure, lock_row_if_free, lock_rows

from . import errors
from .models import Invoice, InvoiceCounter, InvoiceKind, document_number
from .tax import CENT, DocumentLine, document_line, document_totals, smallest_coin

logger = logging.getLogger(__name__)


# --- Numbers ----------------------------------------------------------------------------


def _lock_counter(*, series: str, year: int) -> InvoiceCounter:
    """The counter of ``series`` in ``year``, locked until the transaction ends.

    The first document of a year creates it with ``INSERT … ON CONFLICT DO NOTHING``: a
    second creator waits for the first one's transaction and then finds its row.
    """
    rows = lock_rows(InvoiceCounter.objects.filter(series=series, year=year))
    if rows:
        return rows[0]
    try:
        InvoiceCounter.objects.bulk_create(
            [InvoiceCounter(series=series, year=year)], ignore_conflicts=True
        )
    except OperationalError as error:
        if is_lock_failure(error):
            raise _busy() from error
        raise
    return lock_rows(InvoiceCounter.objects.filter(series=series, year=year))[0]


def _busy() -> ConflictError:
    return ConflictError(
        _("Many documents are being issued right now; please try again in a moment."),
        code=BUSY,
        retry_after=1,
    )


def _database_now() -> datetime:
    if connection.vendor == "postgresql":
        sql = "SELECT clock_timestamp()"
    elif connection.vendor == "mysql":
        sql = "SELECT UTC_TIMESTAMP(6)"  # naive, in UTC whatever the session's time zone
    else:
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        moment: datetime = cursor.fetchone()[0]
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def _take_number(*, series: str, now: datetime | None) -> tuple[int, int, datetime]:
    """The next ``(year, sequence)`` of ``series`` and the document's issue time. Inside the
    issuing transaction, as late as possible: the counter stays locked until the commit."""
    issued_at = now or timezone.now()
    year = timezone.localtime(issued_at).year
    counter = _lock_counter(series=series, year=year)
    if now is None:
        # Read the clock once the counter is ours: in a series, later numbers never carry
        # earlier times, even when this transaction waited for the counter. The database's
        # clock, where it has one: workers on several hosts may not agree on the time.
        issued_at = _database_now()
        if timezone.localtime(issued_at).year != year:  # the year turned while it waited
            year = timezone.localtime(issued_at).year
            counter = _lock_counter(series=series, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return year, counter.last, issued_at


# --- Documents --------------------------------------------------------------------------


def _seller() -> dict[str, str]:
    return {
        "seller_legal_name": settings.SELLER_LEGAL_NAME,
        "seller_tax_id": settings.SELLER_TAX_ID,
        "seller_address": settings.SELLER_ADDRESS,
        "seller_email": settings.SELLER_EMAIL,
    }


def _buyer(order: Order) -> dict[str, str]:
    """Orders have no billing details yet: the visitor's name (or email) and the order's
    email; no tax id. A counter sale to nobody in particular has neither name nor email."""
    user = order.user
    name = (user.get_full_name() or user.email) if user is not None else ""
    email = order.email or (user.email if user is not None else "")
    # A registration allows a longer name than a document prints: it is cut, never refused.
    longest = Invoice._meta.get_field("buyer_name").max_length or len(name)
    return {"buyer_name": name[:longest], "buyer_email": email, "buyer_tax_id": ""}


def _issue(
    *,
    action: str,
    kind: str,
    series: str,
    order: Order,
    lines: Sequence[DocumentLine],
    tax_rate: Decimal,
    buyer: Mapping[str, str],
    now: datetime | None,
    refund: Refund | None = None,
    refers_to: Invoice | None = None,
) -> Invoice:
    """Number, store and record a document (the caller has locked the order)."""
    totals = document_totals(lines)
    year, sequence, issued_at = _take_number(series=series, now=now)
    document = Invoice.objects.create(
        kind=kind,
        series=series,
        year=year,
        sequence=sequence,
        number=document_number(series, year, sequence),
        order=order,
        refund=refund,
        refers_to=refers_to,
        issued_at=issued_at,
        currency=order.currency,
        net=totals.net,
        tax=totals.tax,
        total=totals.total,
        tax_rate=tax_rate,
        lines=[line.as_json() for line in lines],
        **_seller(),
        **buyer,
    )
    metadata: dict[str, Any] = {"number": document.number, "order": order.code}
    if refers_to is not None:
        metadata["refers_to"] = refers_to.number
    if refund is not None:
        metadata["refund"] = refund.pk
    metadata |= {"total": document.total, "tax": document.tax, "currency": document.currency}
    audit.record(action=action, actor=audit.SYSTEM, target=document, metadata=metadata)
    return document


def _lock_order(order_id: int) -> Order:
    rows = lock_rows(Order.objects.filter(pk=order_id))
    if not rows:
        raise NotFoundError(_("No such order."), code=errors.ORDER_NOT_FOUND)
    return rows[0]


def _line_rate(line: OrderLine, tax_rate: Decimal) -> Decimal:
    """VAT of an order line: none for a kind that sells nothing taxable (a donation)."""
    return Decimal("0") if is_tax_exempt(line.kind) else tax_rate


def _invoice_for(order: Order, *, now: datetime | None) -> tuple[Invoice, bool]:
    """The order's invoice, and whether it was issued now. The caller has locked the order."""
    invoice = Invoice.objects.filter(order=order, kind=InvoiceKind.INVOICE).first()
    if invoice is not None:
        return invoice, False
    if order.paid_at is None:
        raise ConflictError(
            _("Order %(code)s was never paid: it has no invoice.") % {"code": order.code},
            code=errors.ORDER_NOT_PAID,
        )
    tax_rate = settings.TAX_RATE
    lines = [
        document_line(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            rate=_line_rate(line, tax_rate),
            quantum=smallest_coin(order.currency),
        )
        for line in order.lines.order_by("id")
    ]
    invoice = _issue(
        action="invoicing.invoice.issued",
        kind=InvoiceKind.INVOICE,
        series=settings.INVOICE_SERIES,
        order=order,
        lines=lines,
        tax_rate=tax_rate,
        buyer=_buyer(order),
        now=now,
    )
    return invoice, True


def invoice_issue(*, order_id: int, now: datetime | None = None) -> Invoice:
    """The invoice of a paid order, issued now when it has none (idempotent).

    An order paid and later cancelled keeps its invoice (its refund gets a credit note); an
    order never paid has none (``ConflictError`` ``order_not_paid``). ``now``: the issue time,
    for tests; by default the moment the number is taken.
    """
    with transaction.atomic():
        return _invoice_for(_lock_order(order_id), now=now)[0]


# --- Credit notes -----------------------------------------------------------------------


def _paid_the_order(refund: Refund) -> bool:
    """Whether the refunded money had paid for the order. A payment refunded as unfulfillable
    (the order was already paid or cancelled, or its seats were gone when the gateway took the
    money) was captured and given straight back: it never paid the order, no invoice holds it,
    and no refund of it has anything to credit."""
    return not refund.payment.refunds.filter(scope=RefundScope.UNFULFILLABLE).exists()


def _refunded_order_lines(
    requested: Sequence[Any], order: Order, tax_rate: Decimal
) -> list[DocumentLine] | None:
    """The refund's ``lines`` (``{"line": <order line id>, "quantity": n}`` each) as lines of
    the credit note; ``None`` when one does not name a line of the order and a quantity it
    holds."""
    order_lines: dict[int, OrderLine] = {line.pk: line for line in order.lines.all()}
    lines = []
    for item in requested:
        try:
            line = order_lines[int(item["line"])]
            quantity = int(item["quantity"])
        except (KeyError, TypeError, ValueError):
            return None
        if not 1 <= quantity <= line.quantity:
            return None
        lines.append(
            document_line(
                description=line.description,
                quantity=quantity,
                unit_price=line.unit_price,
                rate=_line_rate(line, tax_rate),
                quantum=smallest_coin(order.currency),
            )
        )
    return lines


def _credit_lines(*, refund: Refund, order: Order, invoice: Invoice) -> list[DocumentLine]:
    """What the credit note gives back, adding up to the refund's amount exactly:

    - the refund's ``lines`` (the tickets finance gave back), when it names them and they add
      up to its amount;
    - the invoice's own lines, with their tax to the cent, when the whole invoice is refunded
      at once;
    - else one line "Refund" of the amount.
    """
    tax_rate = invoice.tax_rate
    if refund.lines:
        lines = _refunded_order_lines(refund.lines, order, tax_rate)
        if lines is not None and document_totals(lines).total == refund.amount:
            return lines
        logger.warning(
            "Refund %s names lines that are not the order's or do not add up to its amount "
            "(%s): its credit note has one line of the amount.",
            refund.pk,
            refund.amount,
        )
    elif (
        refund.amount == invoice.total
        and not Invoice.objects.filter(refers_to=invoice, kind=InvoiceKind.CREDIT_NOTE).exists()
    ):
        return [DocumentLine.from_json(line) for line in invoice.lines]
    return [_refund_line(refund.amount, tax_rate, order.currency)]


def _refund_line(amount: Decimal, tax_rate: Decimal, currency: str) -> DocumentLine:
    with translation.override(settings.LANGUAGE_CODE):  # stored text: the park's language
        description = _("Refund")
    return document_line(
        description=description,
        quantity=1,
        unit_price=amount,
        rate=tax_rate,
        quantum=smallest_coin(currency),
    )


def _within_the_invoice(lines: list[DocumentLine], invoice: Invoice) -> list[DocumentLine]:
    """Credit notes never give back more than their invoice, nor leave its VAT behind: what
    exceeds what is left to credit (a refund reversed by the gateway already has a credit note)
    is not credited again, and the note that completes the invoice takes the VAT that is
    left, whatever per-line rounding made of it."""
    credited = Invoice.objects.filter(refers_to=invoice, kind=InvoiceKind.CREDIT_NOTE).aggregate(
        total=Sum("total"), tax=Sum("tax")
    )
    # Quantized: SQLite sums decimals as floats (667.260000000000).
    left_total = (invoice.total - (credited["total"] or Decimal("0.00"))).quantize(CENT)
    left_tax = (invoice.tax - (credited["tax"] or Decimal("0.00"))).quantize(CENT)
    if document_totals(lines).total > left_total:
        logger.warning(
            "Invoice %s has %s left to credit; the credit note is limited to it.",
            invoice.number,
            left_total,
        )
        if left_total <= 0:
            return []
        lines = [_refund_line(left_total, invoice.tax_rate, invoice.currency)]
    if document_totals(lines).total == left_total:
        last = lines[-1]
        rest = left_tax - sum((line.tax for line in lines[:-1]), Decimal("0.00"))
        lines[-1] = replace(last, tax=rest)
    return lines


def _credit_note_for(
    *, refund: Refund, order: Order, invoice: Invoice, now: datetime | None
) -> tuple[Invoice | None, bool]:
    """The refund's credit note, and whether it was issued now (``None``: nothing of the
    invoice is left to credit). The caller locked the order."""
    credit_note = Invoice.objects.filter(refund=refund, kind=InvoiceKind.CREDIT_NOTE).first()
    if credit_note is not None:
        return credit_note, False
    lines = _within_the_invoice(_credit_lines(refund=refund, order=order, invoice=invoice), invoice)
    if not lines:
        return None, False
    credit_note = _issue(
        action="invoicing.credit_note.issued",
        kind=InvoiceKind.CREDIT_NOTE,
        series=settings.CREDIT_NOTE_SERIES,
        order=order,
        lines=lines,
        # What the invoice charged is what goes back, whatever TAX_RATE says today.
        tax_rate=invoice.tax_rate,
        buyer={
            "buyer_name": invoice.buyer_name,
            "buyer_email": invoice.buyer_email,
            "buyer_tax_id": invoice.buyer_tax_id,
        },
        now=now,
        refund=refund,
        refers_to=invoice,
    )
    return credit_note, True


def credit_note_issue(*, refund_id: int, now: datetime | None = None) -> Invoice | None:
    """The credit note of a succeeded refund, issued now when it has none (idempotent),
    referring to the order's invoice (issued first when it is missing).

    ``None`` for money given back that never paid for the order (``_paid_the_order``).
    """
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None:
        raise NotFoundError(_("No such refund."), code=errors.REFUND_NOT_FOUND)
    if refund.status != RefundStatus.SUCCEEDED:
        raise ConflictError(
            _("The refund has not succeeded: it has no credit note."),
            code=errors.REFUND_NOT_SUCCEEDED,
        )
    if not _paid_the_order(refund):
        return None
    order_id = refund.payment.order_id
    # Two transactions, each taking one counter before the audit chain head (lock order).
    invoice = invoice_issue(order_id=order_id, now=now)
    with transaction.atomic():
        order = _lock_order(order_id)
        return _credit_note_for(refund=refund, order=order, invoice=invoice, now=now)[0]


# --- Recovery ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepRun:
    """What one run of ``invoices_issue_missing`` did."""

    invoices: int
    credit_notes: int
    skipped: int  # the order was in use, or a lock not had in time: taken next run


def _when_free(order_id: int, issue: Callable[[Order], bool]) -> bool | None:
    """``issue`` on the order, in a transaction of its own, unless somebody is using the order
    right now (``SKIP LOCKED``, docs/adr/0020): ``None`` when skipped."""
    try:
        with transaction.atomic():
            order = lock_row_if_free(Order.objects.filter(pk=order_id))
            if order is None:
                return None
            return issue(order)
    except ConflictError as error:
        if error.code != BUSY:
            raise
    except OperationalError as error:
        if not is_lock_failure(error):
            raise
    except Exception:
        # One order the sweep cannot document must not stop it for every other one.
        logger.exception("Order %s could not be invoiced; skipped.", order_id)
    return None


def invoices_issue_missing(*, limit: int = 500) -> SweepRun:
    """Issue the invoices of paid orders, and the credit notes of succeeded refunds, that have
    none: the tasks queued when they committed were lost (a worker died, the broker was down).

    Idempotent; never waits for an order somebody is paying, cancelling or invoicing: it is
    skipped and taken on the next run. Schedule it (the ``invoicing.issue_missing`` task or
    ``manage.py invoices_issue_missing``) every few minutes.
    """
    invoices = credit_notes = skipped = 0
    order_ids = list(
        Order.objects.filter(paid_at__isnull=False)
        .exclude(invoices__kind=InvoiceKind.INVOICE)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for order_id in order_ids:
        issued = _when_free(order_id, lambda order: _invoice_for(order, now=None)[1])
        skipped += issued is None
        invoices += bool(issued)
    refunds = list(
        Refund.objects.filter(status=RefundStatus.SUCCEEDED, credit_notes__isnull=True)
        .exclude(payment__refunds__scope=RefundScope.UNFULFILLABLE)
        # Those whose invoice exists; the others' order was skipped above: next run.
        .filter(payment__order__invoices__kind=InvoiceKind.INVOICE)
        .select_related("payment")
        .order_by("pk")[:limit]
    )
    for refund in refunds:

        def issue(order: Order, refund: Refund = refund) -> bool:
            invoice = Invoice.objects.get(order=order, kind=InvoiceKind.INVOICE)
            return _credit_note_for(refund=refund, order=order, invoice=invoice, now=None)[1]

        issued = _when_free(refund.payment.order_id, issue)
        skipped += issued is None
        credit_notes += bool(issued)
    return SweepRun(invoices=invoices, credit_notes=credit_notes, skipped=skipped)
