"""Orders, their lines, payments, refunds and the raw webhooks of the gateways.

Payments sits below tickets and education: it knows order lines only as a ``kind`` (``ticket``)
with a ``reference`` that the module of that kind understands. Orders, payments and refunds
are records: never deleted.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.support.common.models import TimeStampedModel

ORDER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


def new_order_code() -> str:
    return "".join(secrets.choice(ORDER_CODE_ALPHABET) for _ in range(8))


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending payment")
    PAID = "paid", _("Paid")
    EXPIRED = "expired", _("Expired")
    CANCELED = "canceled", _("Canceled")


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    COUNTER = "counter", _("Ticket office counter")


class Order(TimeStampedModel):
    code = models.CharField(_("code"), max_length=16, unique=True, default=new_order_code)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("visitor"),
        help_text=_("The visitor's account; empty for counter sales."),
    )
    email = models.EmailField(_("email"), blank=True, help_text=_("Where tickets are sent."))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    expires_at = models.DateTimeField(
        _("hold expires at"), help_text=_("Unpaid, its seats stop counting at this moment.")
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    canceled_at = models.DateTimeField(_("canceled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancel reason"), max_length=200, blank=True)
    disputed_at = models.DateTimeField(
        _("disputed at"),
        null=True,
        blank=True,
        help_text=_("When the buyer's bank opened a dispute (chargeback) on its payment."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        help_text=_("Empty for a guest's order (a gift without an account)."),
    )
    guest_token_hash = models.CharField(
        _("guest token (SHA-256)"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_(
            "A guest's order is reached with its token, given once; only its hash is kept."
        ),
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("user", "-created_at"), name="order_user_created"),
            models.Index(fields=("status", "expires_at"), name="order_status_expires"),
            # The finance reports read the orders paid in a period (docs/adr/0030).
            models.Index(fields=("paid_at",), name="order_paid_at"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            # Online: a visitor's account, or a guest's email (gifts may be made without one).
            models.CheckConstraint(
                condition=Q(channel="counter") | Q(user__isnull=False) | ~Q(email=""),
                name="order_online_has_visitor_or_email",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_hold_expired(self) -> bool:
        return self.status == OrderStatus.PENDING and self.expires_at <= timezone.now()

    @property
    def effective_status(self) -> str:
        """``expired`` as soon as an unpaid hold runs out, before any job records it."""
        return OrderStatus.EXPIRED if self.is_hold_expired else self.status


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=32, help_text=_("e.g. ticket."))
    description = models.CharField(_("description"), max_length=200)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    reference = models.JSONField(
        _("reference"), default=dict, help_text=_("What the line is, for its module.")
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ("order", "id")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_line_total"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.description}"


class PaymentMethod(models.TextChoices):
    SANDBOX = "sandbox", _("Sandbox gateway")
    STRIPE = "stripe", _("Stripe")
    PAYPAL = "paypal", _("PayPal")
    CASH = "cash", _("Cash at the counter")
    CARD_PRESENT = "card_present", _("Card at the counter")


COUNTER_METHODS = (PaymentMethod.CASH, PaymentMethod.CARD_PRESENT)


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


# Payments whose money the park holds (all of it, or what is left after refunds).
CAPTURED_STATUSES = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
)


class Payment(TimeStampedModel):
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="payments", verbose_name=_("order")
    )
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    gateway_reference = models.CharField(
        _("gateway reference"), max_length=120, blank=True, db_index=True
    )
    capture_reference = models.CharField(
        _("capture reference"),
        max_length=120,
        blank=True,
        db_index=True,
        help_text=_("The gateway's id of the money movement (Stripe charge, PayPal capture)."),
    )
    gateway_outcome = models.CharField(
        _("gateway's answer"),
        max_length=16,
        blank=True,
        help_text=_("What the gateway answered when the payment started."),
    )
    failure_code = models.CharField(_("failure code"), max_length=64, blank=True)
    failure_message = models.CharField(_("failure message"), max_length=300, blank=True)
    next_action = models.JSONField(_("next action"), null=True, blank=True)
    succeeded_at = models.DateTimeField(_("succeeded at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        help_text=_("Empty when a guest paid."),
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.UniqueConstraint(
                fields=("method", "gateway_reference"),
                condition=~Q(gateway_reference=""),
                name="payment_gateway_reference_unique",
            ),
            # At most one attempt in flight per order: two clicks never charge twice.
            models.UniqueConstraint(
                fields=("order",),
                condition=Q(status="pending"),
                name="payment_one_pending_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.method} {self.amount} {self.currency} ({self.status})"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # asked for; the gateway has not confirmed it yet
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")  # nothing was given back; finance may retry it


class RefundScope(models.TextChoices):
    """What a refund gives back besides money, once the gateway confirms it."""

    ORDER = "order", _("The whole order")  # voids every ticket, the order is cancelled
    LINES = "lines", _("Some lines")  # voids that many tickets of those lines
    AMOUNT = "amount", _("An amount")  # money only (a goodwill gesture)
    CANCELLATION = "cancellation", _("A cancellation")  # the order was cancelled first
    UNFULFILLABLE = "unfulfillable", _("Money for an order that could not be delivered")
    GATEWAY = "gateway", _("Made in the gateway's dashboard")


class Refund(TimeStampedModel):
    """Money given back: asked for (pending), then confirmed or refused by the gateway.

    A refund is a record of its own (never edited by hand, never deleted). A pending or
    succeeded refund counts against what may still be refunded; a failed one does not.
    """

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    scope = models.CharField(_("scope"), max_length=16, choices=RefundScope.choices)
    lines = models.JSONField(
        _("lines"),
        default=list,
        blank=True,
        help_text=_('Order lines refunded: [{"line": id, "quantity": n}].'),
    )
    gateway_reference = models.CharField(_("gateway reference"), max_length=120, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    failure_message = models.CharField(_("failure message"), max_length=300, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    retries = models.PositiveIntegerField(
        _("retries"),
        default=0,
        help_text=_("Times finance asked again after the gateway refused it (a new request)."),
    )
    completed_at = models.DateTimeField(
        _("completed at"),
        null=True,
        blank=True,
        help_text=_("When the gateway first confirmed it and its effects were applied."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ("-created_at", "-id")
        # The refunds report reads the refunds completed in a period (docs/adr/0030).
        indexes = [models.Index(fields=("completed_at",), name="refund_completed_at")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_not_negative"),
            models.UniqueConstraint(
                fields=("payment", "gateway_reference"),
                condition=~Q(gateway_reference=""),
                name="refund_gateway_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment.order} -{self.amount} {self.currency} ({self.status})"

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt of one request: asking again after an unanswered call
        gets the gateway's first answer, never a second refund. A refund the gateway refused
        is asked for anew (a new key) when finance retries it."""
        return f"refund-{self.pk}" + (f"-retry-{self.retries}" if self.retries else "")


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class WebhookEvent(models.Model):
    """One verified delivery of a gateway's webhook, stored raw so it can be replayed."""

    gateway = models.CharField(_("gateway"), max_length=16)
    event_id = models.CharField(_("event id"), max_length=120)
    event_type = models.CharField(_("event type"), max_length=80)
    gateway_reference = models.CharField(_("payment reference"), max_length=120, blank=True)
    body = models.TextField(_("raw body"))
    status = models.CharField(
        _("status"), max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED
    )
    last_error = models.TextField(_("last error"), blank=True)
    deliveries = models.PositiveIntegerField(
        _("deliveries"), default=1, help_text=_("How many times the gateway sent it.")
    )
    attempts = models.PositiveIntegerField(
        _("attempts"), default=0, help_text=_("How many times it was processed.")
    )
    next_attempt_at = models.DateTimeField(
        _("next attempt at"),
        null=True,
        blank=True,
        help_text=_("A failed event is tried again from this moment (backoff)."),
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ("-received_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("gateway", "event_id"), name="webhook_event_unique_per_gateway"
            )
        ]
        indexes = [
            models.Index(fields=("status", "next_attempt_at"), name="webhook_event_due"),
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.event_type} {self.event_id}"


class StatementStatus(models.TextChoices):
    OK = "ok", _("Fetched")
    FAILED = "failed", _("Failed")


class GatewayStatement(TimeStampedModel):
    """What one gateway stated of one of the park's days (its local day), as last fetched:
    the lines reconciliation compares with the park's payments and refunds (docs/adr/0031).
    Fetching the day again replaces it."""

    gateway = models.CharField(_("gateway"), max_length=16)
    date = models.DateField(_("date"), help_text=_("The park's local day."))
    status = models.CharField(_("status"), max_length=16, choices=StatementStatus.choices)
    error = models.TextField(_("error"), blank=True)
    fetched_at = models.DateTimeField(_("fetched at"))

    class Meta:
        verbose_name = _("gateway statement")
        verbose_name_plural = _("gateway statements")
        ordering = ("-date", "gateway")
        constraints = [
            models.UniqueConstraint(fields=("gateway", "date"), name="statement_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.date} ({self.status})"


class StatementLineKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class StatementLineStatus(models.TextChoices):
    SUCCEEDED = "succeeded", _("Succeeded")
    PENDING = "pending", _("Pending")
    FAILED = "failed", _("Failed")


class GatewayStatementLine(models.Model):
    """One payment or refund as the gateway stated it."""

    statement = models.ForeignKey(
        GatewayStatement,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("statement"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=StatementLineKind.choices)
    reference = models.CharField(
        _("reference"),
        max_length=120,
        help_text=_("The gateway's id of this line: the payment's, or the refund's."),
    )
    gateway_reference = models.CharField(_("payment reference"), max_length=120, blank=True)
    capture_reference = models.CharField(_("capture reference"), max_length=120, blank=True)
    refund_reference = models.CharField(_("refund reference"), max_length=120, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=16, choices=StatementLineStatus.choices)
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        verbose_name = _("gateway statement line")
        verbose_name_plural = _("gateway statement lines")
        ordering = ("statement", "occurred_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("statement", "kind", "reference"), name="statement_line_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="statement_line_amount_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=("capture_reference",), name="statement_line_capture"),
            models.Index(fields=("gateway_reference",), name="statement_line_payment"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference} {self.amount} {self.currency} ({self.status})"
