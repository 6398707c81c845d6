"""Invoices and credit notes: numbered, immutable records of what was sold and given back.

One model for both kinds. A document keeps a snapshot of everything it prints (seller, buyer,
lines, totals), so it reads the same forever whatever happens to the order, the user or the
settings. Amounts are positive on both kinds: ``kind`` says that a credit note takes them back.

Numbers are gap-free per series and calendar year (``PM-2026-000123``, credit notes in their
own series ``PMNC-2026-000007``), taken from an ``InvoiceCounter`` row locked by the issuing
transaction (docs/adr/0023). Documents are never changed or deleted: the ORM refuses it
(``AppendOnlyModel``), and on PostgreSQL a trigger refuses it to every writer.
"""

from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from apps.business.payments.models import Order, Refund
from apps.support.common.models import AppendOnlyModel, AppendOnlyQuerySet


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


def document_number(series: str, year: int, sequence: int) -> str:
    return f"{series}-{year}-{sequence:06d}"


class Invoice(AppendOnlyModel):
    kind = models.CharField(_("kind"), max_length=16, choices=InvoiceKind.choices)
    series = models.CharField(_("series"), max_length=16)
    year = models.PositiveSmallIntegerField(_("year"))
    sequence = models.PositiveIntegerField(_("sequence"))
    number = models.CharField(_("number"), max_length=32, unique=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("order")
    )
    refund = models.ForeignKey(
        Refund,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("refund"),
        help_text=_("The money given back that a credit note documents."),
    )
    refers_to = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("refers to"),
        help_text=_("The invoice a credit note corrects."),
    )
    issued_at = models.DateTimeField(_("issued at"), db_index=True)
    currency = models.CharField(_("currency"), max_length=3)
    net = models.DecimalField(_("net"), max_digits=12, decimal_places=2)
    tax = models.DecimalField(_("tax"), max_digits=12, decimal_places=2)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    tax_rate = models.DecimalField(
        _("tax rate"), max_digits=5, decimal_places=4, help_text=_("0.1300 is 13 %.")
    )
    lines = models.JSONField(
        _("lines"),
        help_text=_(
            "As printed: description, quantity, unit price, net, tax and total of each line."
        ),
    )
    seller_legal_name = models.CharField(_("seller's legal name"), max_length=200)
    seller_tax_id = models.CharField(_("seller's tax id"), max_length=40)
    seller_address = models.CharField(_("seller's address"), max_length=300)
    seller_email = models.EmailField(_("seller's email"))
    buyer_name = models.CharField(_("buyer's name"), max_length=300, blank=True)
    buyer_email = models.EmailField(_("buyer's email"), blank=True)
    buyer_tax_id = models.CharField(_("buyer's tax id"), max_length=40, blank=True)

    objects: ClassVar[AppendOnlyQuerySet["Invoice"]] = AppendOnlyQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("invoice or credit note")
        verbose_name_plural = _("invoices and credit notes")
        ordering = ("-issued_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("series", "year", "sequence"), name="invoice_number_unique"
            ),
            models.UniqueConstraint(
                fields=("order",), condition=Q(kind="invoice"), name="invoice_one_per_order"
            ),
            models.UniqueConstraint(
                fields=("refund",),
                condition=Q(kind="credit_note"),
                name="invoice_one_credit_note_per_refund",
            ),
            models.CheckConstraint(
                condition=Q(kind="invoice", refund__isnull=True, refers_to__isnull=True)
                | Q(kind="credit_note", refund__isnull=False, refers_to__isnull=False),
                name="invoice_kind_references",
            ),
            models.CheckConstraint(condition=Q(sequence__gte=1), name="invoice_sequence"),
            models.CheckConstraint(
                condition=Q(net__gte=0, tax__gte=0, total__gte=0), name="invoice_amounts_positive"
            ),
            models.CheckConstraint(
                condition=Q(total=F("net") + F("tax")), name="invoice_total_is_net_plus_tax"
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0, tax_rate__lt=1), name="invoice_tax_rate_fraction"
            ),
        ]
        indexes = [models.Index(fields=("kind", "-issued_at"), name="invoice_kind_issued")]

    def __str__(self) -> str:
        return self.number


class InvoiceCounter(models.Model):
    """The last number taken in a series and year. Its row is locked by the transaction that
    issues a document and released at its commit: numbers are taken one at a time, and a
    number taken by a transaction that rolls back is given again (no gap)."""

    series = models.CharField(_("series"), max_length=16)
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("invoice counter")
        verbose_name_plural = _("invoice counters")
        constraints = [
            models.UniqueConstraint(fields=("series", "year"), name="invoice_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.series}-{self.year}: {self.last}"
