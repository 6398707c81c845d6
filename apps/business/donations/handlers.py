"""Donations as an item that payments sells: ``kind = "donation"`` (registered in apps.py).

Line fields: ``amount`` (within ``DONATION_MIN_AMOUNT`` and ``DONATION_MAX_AMOUNT``, the
line's unit price; its quantity is always 1), optional ``campaign`` (id; empty: the park's
general fund), ``anonymous``, ``message`` (shown on the campaign's donor wall) and ``name``
(as the donor wants to be shown). A gift takes no capacity: holding it only records it.
Donations are not sales: invoicing prints their lines without VAT (``tax_exempt``).
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from apps.business.payments.handlers import LineRequest, PricedLine
from apps.business.payments.models import Order, OrderLine
from apps.support.common.errors import ServiceError

from . import errors, services
from .models import DonationStatus
from .tasks import send_receipts, send_refund_note

KIND = "donation"


def _amount(line: LineRequest) -> Decimal:
    field = f"lines.{line.index}.amount"
    try:
        amount = Decimal(str(line.fields.get("amount")))
    except (InvalidOperation, ValueError):
        raise ServiceError(
            _("A valid number is required, written like 2900.00."), code="invalid", field=field
        ) from None
    return services.check_amount(amount, field=field)


class DonationHandler:
    kind = KIND
    tax_exempt = True  # a gift buys nothing: no VAT on its invoice line
    guest_allowed = True
    money_only_refunds = False

    def price(
        self, *, lines: Sequence[LineRequest], channel: str, now: datetime
    ) -> list[PricedLine]:
        priced = []
        for line in lines:
            if line.quantity != 1:
                raise ServiceError(
                    _("A donation line is one gift: its quantity is 1."),
                    code=errors.DONATION_QUANTITY,
                    field=f"lines.{line.index}.quantity",
                )
            amount = _amount(line)
            campaign_id = line.fields.get("campaign")
            campaign = None
            if campaign_id is not None:
                campaign = services.campaign_open_or_error(
                    int(campaign_id), field=f"lines.{line.index}.campaign", now=now
                )
            with translation.override(settings.LANGUAGE_CODE):  # stored: the park's language
                description = (
                    _("Donation: %(campaign)s") % {"campaign": campaign.title_es}
                    if campaign is not None
                    else _("Donation to the park's general fund")
                )
            priced.append(
                PricedLine(
                    kind=KIND,
                    description=description[:200],
                    unit_price=amount,
                    currency=campaign.currency if campaign else settings.PAYMENTS_CURRENCY,
                    quantity=1,
                    reference={
                        "campaign": campaign.pk if campaign else None,
                        "anonymous": bool(line.fields.get("anonymous", False)),
                        "message": str(line.fields.get("message") or ""),
                        "name": str(line.fields.get("name") or ""),
                    },
                )
            )
        return priced

    def hold(self, *, order: Order, lines: Sequence[OrderLine]) -> None:
        donations = services.donations_create(order=order, lines=list(lines))
        # The gift now lives on its donation: the line only points at it (the donor's name
        # and message are not copied into the order's audit entry).
        for line, donation in zip(lines, donations, strict=True):
            line.reference = {"campaign": donation.campaign_id, "donation": donation.pk}
        OrderLine.objects.bulk_update(list(lines), ["reference"])

    def paid(self, *, order: Order) -> None:
        if services.donations_paid(order=order):
            order_id = order.pk
            transaction.on_commit(lambda: send_receipts.delay(order_id), robust=True)

    def released(self, *, order: Order, reason: str) -> None:
        given_back = services.donations_given_back(
            donations=list(order.donations.all()), status=DonationStatus.CANCELED
        )
        self._notify(given_back)

    def refunded(self, *, order: Order, lines: Sequence[tuple[OrderLine, int]]) -> None:
        line_ids = [line.pk for line, quantity in lines if quantity > 0]
        given_back = services.donations_given_back(
            donations=list(order.donations.filter(line_id__in=line_ids)),
            status=DonationStatus.REFUNDED,
        )
        self._notify(given_back)

    def check_cancellable(self, *, order: Order, now: datetime, by_staff: bool) -> None:
        """A gift never stops its order from being cancelled (it is refunded with it)."""

    @staticmethod
    def _notify(donations: Sequence[Any]) -> None:
        for donation in donations:
            if donation.email:
                transaction.on_commit(partial(send_refund_note.delay, donation.pk), robust=True)
