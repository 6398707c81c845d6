"""Timed-entry tickets: price categories, the opening schedule and its slots, the seats held
and confirmed per order, the issued tickets and their check-ins.

Capacity: a slot's free seats are ``capacity - sold - unexpired holds``. ``sold`` counts
confirmed seats (changed only under the slot's row lock, or given back with ``F()``); holds
are ``Reservation`` rows that stop counting at ``expires_at`` by time alone (docs/adr/0015).
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.business.payments.models import Order
from apps.support.common.models import TimeStampedModel


def default_currency() -> str:
    return settings.PAYMENTS_CURRENCY


class TicketType(TimeStampedModel):
    """A price category: adult national, child 4-11, 60+ or disability, school group…"""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_es = models.CharField(_("name (Spanish)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default=default_currency)
    min_quantity = models.PositiveSmallIntegerField(
        _("minimum per order line"),
        default=1,
        help_text=_("Group prices: e.g. 11 for groups of more than 10."),
    )
    is_active = models.BooleanField(_("on sale"), default=True)
    valid_from = models.DateField(_("valid for visits from"), null=True, blank=True)
    valid_until = models.DateField(_("valid for visits until"), null=True, blank=True)
    display_order = models.PositiveSmallIntegerField(_("display order"), default=0)

    class Meta:
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")
        ordering = ("display_order", "id")
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="ticket_type_price"),
            models.CheckConstraint(condition=Q(min_quantity__gte=1), name="ticket_type_min_qty"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="ticket_type_validity",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("Must not be before valid_from.")})

    @property
    def name(self) -> str:
        if (get_language() or "es").startswith("en") and self.name_en:
            return self.name_en
        return self.name_es


def default_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4, 5, 6]


class OpeningSchedule(TimeStampedModel):
    """When the park opens and how many visitors each entry slot admits.

    From ``valid_from`` (to ``valid_until``, or on), on ``weekdays`` (0 = Monday), slots of
    ``slot_minutes`` from ``opens_at`` until ``closes_at``. Where schedules overlap, the one
    that started last applies (a holiday season over the year's schedule).
    """

    name = models.CharField(_("name"), max_length=120)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    weekdays = models.JSONField(_("weekdays"), default=default_weekdays)
    opens_at = models.TimeField(_("opens at"))
    closes_at = models.TimeField(_("closes at"))
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    capacity_per_slot = models.PositiveIntegerField(_("visitors per slot"))

    def clean(self) -> None:
        weekdays = self.weekdays
        if (
            not isinstance(weekdays, list)
            or not weekdays
            or any(type(day) is not int or not 0 <= day <= 6 for day in weekdays)
        ):
            raise ValidationError(
                {"weekdays": _("List the weekdays as numbers from 0 (Monday) to 6 (Sunday).")}
            )
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": _("The park must close after it opens.")})
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("Must not be before valid_from.")})

    class Meta:
        verbose_name = _("opening schedule")
        verbose_name_plural = _("opening schedules")
        ordering = ("-valid_from", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="schedule_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=5) & Q(slot_minutes__lte=720),
                name="schedule_slot_minutes",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="schedule_validity",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Closure(TimeStampedModel):
    """A day the park stays closed (holiday, maintenance, weather)."""

    date = models.DateField(_("date"), unique=True)
    reason = models.CharField(_("reason"), max_length=200)
    closed_slot_ids = models.JSONField(
        _("slots it closed"),
        default=list,
        editable=False,
        help_text=_("Reopened when the closure is removed; slots closed on their own stay."),
    )

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ("date",)

    def __str__(self) -> str:
        return f"{self.date}: {self.reason}"


class TimeSlot(TimeStampedModel):
    date = models.DateField(_("date"), db_index=True, help_text=_("The park's local date."))
    starts_at = models.DateTimeField(_("starts at"), unique=True)
    ends_at = models.DateTimeField(_("ends at"))
    capacity = models.PositiveIntegerField(_("capacity"))
    sold = models.PositiveIntegerField(_("seats sold"), default=0, editable=False)
    is_closed = models.BooleanField(_("closed"), default=False)

    class Meta:
        verbose_name = _("time slot")
        verbose_name_plural = _("time slots")
        ordering = ("starts_at",)
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="slot_ends_later"),
            # The last line of defence against overselling: confirmed seats never exceed it.
            models.CheckConstraint(condition=Q(sold__lte=F("capacity")), name="slot_not_oversold"),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.starts_at):%Y-%m-%d %H:%M}"


class ReservationStatus(models.TextChoices):
    HELD = "held", _("Held until paid")
    CONFIRMED = "confirmed", _("Confirmed")
    RELEASED = "released", _("Released")


class Reservation(TimeStampedModel):
    """Seats of one slot taken by one order line: held, then confirmed or released."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="ticket_reservations", verbose_name=_("order")
    )
    slot = models.ForeignKey(
        TimeSlot, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("slot")
    )
    ticket_type = models.ForeignKey(
        TicketType, on_delete=models.PROTECT, related_name="+", verbose_name=_("ticket type")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(
        _("unit price"), max_digits=12, decimal_places=2, help_text=_("As charged in the order.")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=ReservationStatus.choices,
        default=ReservationStatus.HELD,
    )
    expires_at = models.DateTimeField(_("hold expires at"))

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ("id",)
        indexes = [
            models.Index(fields=("slot", "status", "expires_at"), name="reservation_slot_holds")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="reservation_quantity")
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.quantity} x {self.slot}"


def new_ticket_secret() -> str:
    return secrets.token_hex(10).upper()  # 80 random bits


class TicketStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    VOID = "void", _("Void")


class Ticket(TimeStampedModel):
    """One admission for one person; its QR carries ``secret`` and a signature (signing.py)."""

    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("order")
    )
    reservation = models.ForeignKey(
        Reservation, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("reservation")
    )
    slot = models.ForeignKey(
        TimeSlot, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("slot")
    )
    ticket_type = models.ForeignKey(
        TicketType, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("ticket type")
    )
    price = models.DecimalField(
        _("price"), max_digits=12, decimal_places=2, help_text=_("As charged in the order.")
    )
    secret = models.CharField(_("secret"), max_length=32, unique=True, default=new_ticket_secret)
    status = models.CharField(
        _("status"), max_length=8, choices=TicketStatus.choices, default=TicketStatus.VALID
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.ticket_type} {self.slot} ({self.secret[:6]}…)"


class CheckIn(models.Model):
    """The accepted scan of a ticket; one per ticket (the database refuses a second)."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.PROTECT, related_name="check_in", verbose_name=_("ticket")
    )
    gate = models.CharField(_("gate"), max_length=64)
    checked_in_at = models.DateTimeField(_("checked in at"), db_index=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("checked in by"),
    )

    class Meta:
        verbose_name = _("check-in")
        verbose_name_plural = _("check-ins")
        ordering = ("-checked_in_at", "-id")

    def __str__(self) -> str:
        return f"{self.ticket} @ {self.gate}"
