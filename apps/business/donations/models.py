"""Donations: fundraising campaigns and the gifts visitors make, sold as order lines.

A donation is an order line of kind ``donation`` (docs/adr/0029): payments knows it only as a
line, this module's handler (handlers.py) does the rest. A campaign keeps its running totals
on its own row (``raised``, ``donor_count``, ``donation_count``), changed in the transaction
that pays or refunds a donation, so reading a campaign never adds up its donations.
"""

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.business.payments.models import Order, OrderLine
from apps.support.common.models import TimeStampedModel


def default_currency() -> str:
    return settings.PAYMENTS_CURRENCY


class Campaign(TimeStampedModel):
    """A fundraising appeal: "Rescue of the olive ridley turtles", "Reef restoration"."""

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    title_es = models.CharField(_("title (Spanish)"), max_length=160)
    title_en = models.CharField(_("title (English)"), max_length=160, blank=True)
    story_es = models.TextField(_("story (Spanish)"), blank=True)
    story_en = models.TextField(_("story (English)"), blank=True)
    image = models.ImageField(_("image"), upload_to="campaigns/%Y/", blank=True)
    goal = models.DecimalField(
        _("goal"), max_digits=12, decimal_places=2, validators=[MinValueValidator(1)]
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    suggested_amounts = models.JSONField(
        _("suggested amounts"),
        default=list,
        blank=True,
        help_text=_('Amounts offered as buttons, e.g. ["2000.00", "5000.00", "10000.00"].'),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(
        _("ends at"), null=True, blank=True, help_text=_("Empty: open until closed by hand.")
    )
    is_public = models.BooleanField(
        _("public"), default=False, help_text=_("Shown to visitors and open for donations.")
    )
    # Running totals of paid donations, net of refunds: changed only by the donation service,
    # in the transaction that pays or refunds one (a row update, so concurrent gifts queue).
    raised = models.DecimalField(_("raised"), max_digits=14, decimal_places=2, default=0)
    donor_count = models.PositiveIntegerField(_("donors"), default=0)
    donation_count = models.PositiveIntegerField(_("donations"), default=0)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ("-starts_at", "id")
        constraints = [
            models.CheckConstraint(condition=Q(goal__gt=0), name="campaign_goal_positive"),
            models.CheckConstraint(condition=Q(raised__gte=0), name="campaign_raised_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="campaign_ends_after_start",
                violation_error_message=_("A campaign ends after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        english = self.title_en
        if (get_language() or "es").startswith("en") and english:
            return english
        return self.title_es

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.is_public
            and self.starts_at <= now
            and (self.ends_at is None or now < self.ends_at)
        )

    @property
    def percentage(self) -> Decimal:
        """Of the goal, one decimal; above 100 when the goal was passed."""
        return (self.raised * 100 / self.goal).quantize(Decimal("0.1"))

    def days_left(self, now: datetime | None = None) -> int | None:
        """Whole days until it ends (a part of a day counts as one); ``None``: no end."""
        if self.ends_at is None:
            return None
        seconds = (self.ends_at - (now or timezone.now())).total_seconds()
        return max(0, -int(-seconds // 86400))


class DonationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    CANCELED = "canceled", _("Canceled")  # its order expired or was cancelled unpaid


class Donation(TimeStampedModel):
    """One gift: a line of an order, for a campaign or for the park's general fund."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="donations", verbose_name=_("order")
    )
    line = models.OneToOneField(
        OrderLine, on_delete=models.PROTECT, related_name="donation", verbose_name=_("order line")
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donations",
        verbose_name=_("campaign"),
        help_text=_("Empty: the park's general fund."),
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=16, choices=DonationStatus.choices, default=DonationStatus.PENDING
    )
    donor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donations",
        verbose_name=_("donor"),
        help_text=_("The visitor's account; empty for a guest or a counter gift."),
    )
    donor_name = models.CharField(
        _("donor's name"), max_length=120, blank=True, help_text=_("As the donor wants it shown.")
    )
    email = models.EmailField(_("email"), blank=True, help_text=_("Where the receipt is sent."))
    donor_key = models.CharField(
        _("donor key"),
        max_length=260,
        help_text=_("Who gave, to count donors once: the account, else the email, else the gift."),
    )
    anonymous = models.BooleanField(
        _("anonymous"), default=False, help_text=_("Never shown by name in public.")
    )
    message = models.CharField(_("public message"), max_length=500, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    receipt_sent_at = models.DateTimeField(_("receipt sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(
                fields=("campaign", "status", "-paid_at", "-id"), name="donation_campaign_wall"
            ),
            models.Index(
                fields=("campaign", "donor_key", "status"), name="donation_campaign_donor"
            ),
            models.Index(fields=("donor", "-created_at"), name="donation_donor_created"),
            models.Index(fields=("status", "paid_at"), name="donation_status_paid"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="donation_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False),
                name="donation_paid_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.amount} {self.currency}"

    @property
    def receipt_number(self) -> str:
        """Stable and printed on the receipt: ``D-<year of the gift>-<id>``."""
        year = timezone.localtime(self.paid_at or self.created_at).year
        return f"D-{year}-{self.pk:06d}"

    @property
    def public_name(self) -> str:
        """The name a donor wall shows: never an email, never an anonymous donor's name."""
        if self.anonymous or not self.donor_name:
            return str(_("Anonymous"))
        return self.donor_name
