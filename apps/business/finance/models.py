"""Daily sales totals of closed days (docs/adr/0030): a copy of what the sales report would
compute from the records for a local day that is over, kept so that a month's report reads a
few hundred rows instead of a hundred thousand order lines.

A day's sales never change once it is over: an order's ``paid_at`` is set once, its lines
never change, and the payment that paid it is fixed; refunds are reported on their own day.
``SalesDay`` marks a summarized day (in the park's currency); its ``SalesDayTotal`` rows are
the lines of the orders paid that day per kind, ticket type, channel and gateway. Written only
by ``services.sales_days_summarize``; a day without a ``SalesDay`` is computed live.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

# What a total holds: its keys, then its measures.
TOTAL_FIELDS = (
    "kind",
    "ticket_type",
    "channel",
    "method",
    "orders",
    "orders_once",
    "items",
    "gross",
)


class SalesDay(models.Model):
    """A local day of the park whose sales are summarized in its ``totals``."""

    day = models.DateField(_("day"), help_text=_("The park's local day."))
    currency = models.CharField(
        _("currency"), max_length=3, help_text=_("Only sales in this currency are counted.")
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("summarized sales day")
        verbose_name_plural = _("summarized sales days")
        ordering = ("-day",)
        constraints = [
            models.UniqueConstraint(fields=("day", "currency"), name="finance_salesday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.currency}"


class SalesDayTotal(models.Model):
    """The lines of one day's paid orders of one kind (and ticket type), channel and gateway.

    ``orders`` counts the distinct orders with a line here: exact for a ticket type over any
    days, channels and gateways, since an order has one day, one channel and one gateway. An
    order with lines of two ticket types is in two rows, so ``orders_once`` counts each order
    in one row only (that of its first line): summed over any rows, it is their number of
    orders (per day, channel, gateway and in the totals)."""

    sales_day = models.ForeignKey(
        SalesDay, on_delete=models.CASCADE, related_name="totals", verbose_name=_("day")
    )
    kind = models.CharField(_("kind"), max_length=32)
    ticket_type = models.CharField(
        _("ticket type"), max_length=64, blank=True, help_text=_("Empty for other kinds.")
    )
    channel = models.CharField(_("channel"), max_length=16)
    method = models.CharField(
        _("gateway"), max_length=32, help_text=_("Of the payment that paid the order.")
    )
    orders = models.PositiveIntegerField(_("orders"))
    orders_once = models.PositiveIntegerField(
        _("orders counted once"), help_text=_("Orders whose first line is in this row.")
    )
    items = models.PositiveIntegerField(_("items"))
    gross = models.DecimalField(_("gross"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("daily sales total")
        verbose_name_plural = _("daily sales totals")
        ordering = ("sales_day", "kind", "ticket_type", "channel", "method")
        constraints = [
            models.UniqueConstraint(
                fields=("sales_day", "kind", "ticket_type", "channel", "method"),
                name="finance_salesdaytotal_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sales_day_id} {self.kind} {self.ticket_type} {self.channel} {self.method}"
