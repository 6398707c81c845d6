"""What the integrations keep of their own: the sandbox gateway's ledger.

The sandbox is the embedded "bank" of development and demos. Its ledger is what that bank
charged and refunded, written by the gateway itself as it answers (outside the park's
transactions, in autocommit), apart from the park's records: it knows nothing of orders or
payments, only references, amounts and states. Reconciliation reads it as a real gateway's
statement (docs/adr/0031).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .payments.base import TransactionKind, TransactionStatus


class SandboxLedgerEntry(models.Model):
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=[(kind.value, kind.value) for kind in TransactionKind],
    )
    reference = models.CharField(
        _("reference"), max_length=120, unique=True, help_text=_("The sandbox's id of it.")
    )
    payment_reference = models.CharField(
        _("payment reference"),
        max_length=120,
        db_index=True,
        help_text=_("The payment it is, or the payment a refund gives back."),
    )
    amount_minor = models.BigIntegerField(_("amount in minor units"))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=[(status.value, status.value) for status in TransactionStatus],
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("sandbox ledger entry")
        verbose_name_plural = _("sandbox ledger entries")
        ordering = ("occurred_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("kind", "idempotency_key"),
                condition=~Q(idempotency_key=""),
                name="sandbox_ledger_key_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gte=0), name="sandbox_ledger_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.reference} {self.amount_minor} {self.currency} ({self.status})"
