"""Campaigns (written by finance and content editors) and the life of a donation, which the
handler (handlers.py) drives as payments tells it an order was held, paid, released or
refunded.

A campaign's totals are kept on its row and changed in the transaction that pays or gives
back a donation, under the campaign's row lock: gifts to one campaign are counted one after
the other, so the donor count (each donor once) stays exact under concurrent payments
(docs/adr/0029).
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.business.payments.models import Order
from apps.support.audit import services as audit
from apps.support.common import readcache
from apps.support.common.errors import ServiceError
from apps.support.common.images import checked_image
from apps.support.common.locking import lock_rows
from apps.support.common.services import model_create, model_update

from . import errors
from .models import Campaign, Donation, DonationStatus

CAMPAIGN_FIELDS = (
    "slug",
    "title_es",
    "title_en",
    "story_es",
    "story_en",
    "goal",
    "currency",
    "suggested_amounts",
    "starts_at",
    "ends_at",
    "is_public",
)
CENT = Decimal("0.01")


def amount_limits() -> tuple[Decimal, Decimal]:
    return settings.DONATION_MIN_AMOUNT, settings.DONATION_MAX_AMOUNT


def check_amount(amount: Decimal, *, field: str) -> Decimal:
    """A gift within ``DONATION_MIN_AMOUNT`` and ``DONATION_MAX_AMOUNT``, to the cent."""
    low, high = amount_limits()
    if not amount.is_finite() or amount != amount.quantize(CENT) or not low <= amount <= high:
        raise ServiceError(
            _("A donation is from %(low)s to %(high)s %(currency)s.")
            % {"low": low, "high": high, "currency": settings.PAYMENTS_CURRENCY},
            code=errors.AMOUNT_OUT_OF_RANGE,
            field=field,
        )
    return amount.quantize(CENT)


def _checked_campaign_data(data: Mapping[str, Any]) -> dict[str, Any]:
    fields = dict(data)
    currency = fields.get("currency")
    if currency is not None and currency != settings.PAYMENTS_CURRENCY:
        raise ServiceError(
            _("The park takes donations in %(currency)s.")
            % {"currency": settings.PAYMENTS_CURRENCY},
            code=errors.CURRENCY_NOT_SOLD,
            field="currency",
        )
    if "suggested_amounts" in fields:
        suggested = fields["suggested_amounts"]
        if not isinstance(suggested, list):  # the back office's JSON field takes any JSON
            raise ServiceError(
                _('A list of amounts is required, e.g. ["2000.00", "5000.00"].'),
                code=errors.SUGGESTED_AMOUNT_OUT_OF_RANGE,
                field="suggested_amounts",
            )
        amounts = []
        for index, amount in enumerate(suggested):
            field = f"suggested_amounts.{index}"
            try:
                if isinstance(amount, bool) or not isinstance(amount, str | int | float | Decimal):
                    raise InvalidOperation
                value = Decimal(str(amount))
            except (InvalidOperation, ValueError):
                raise ServiceError(
                    _("A valid number is required, written like 2900.00."),
                    code=errors.SUGGESTED_AMOUNT_OUT_OF_RANGE,
                    field=field,
                ) from None
            try:
                amounts.append(check_amount(value, field=field))
            except ServiceError as error:
                error.code = errors.SUGGESTED_AMOUNT_OUT_OF_RANGE
                raise
        fields["suggested_amounts"] = [str(amount) for amount in sorted(set(amounts))]
    return fields


def campaign_create(*, data: Mapping[str, Any]) -> Campaign:
    return model_create(model=Campaign, fields=CAMPAIGN_FIELDS, data=_checked_campaign_data(data))


def campaign_update(*, campaign: Campaign, data: Mapping[str, Any]) -> Campaign:
    """Gifts already made keep their campaign: closing one (``ends_at``, ``is_public``) only
    refuses new ones."""
    return model_update(
        instance=campaign, fields=CAMPAIGN_FIELDS, data=_checked_campaign_data(data)
    )[0]


def campaign_image_set(*, campaign: Campaign, image: UploadedFile | None) -> Campaign:
    """Replace (or, with ``None``, remove) the campaign's picture, checked by its content; the
    old file is deleted once the change is committed."""
    if image is not None:
        image = checked_image(image, max_bytes=settings.SPECIES_IMAGE_MAX_BYTES)
    with transaction.atomic():
        old = campaign.image.name if campaign.image else ""
        storage = campaign.image.storage
        campaign.image = image or ""
        campaign.save(update_fields=["image", "updated_at"])
        audit.record(
            action="donations.campaign.image_changed",
            target=campaign,
            changes={"image": [old, campaign.image.name if campaign.image else ""]},
        )
        if old:
            transaction.on_commit(lambda: storage.delete(old))
    return campaign


def campaign_open_or_error(campaign_id: int, *, field: str, now: Any) -> Campaign:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or not campaign.is_public:
        raise ServiceError(
            _("There is no such campaign."), code=errors.CAMPAIGN_NOT_FOUND, field=field
        )
    if not campaign.is_open(now):
        raise ServiceError(
            _(
                "The campaign %(campaign)s is not taking donations (it has not started or it "
                "has ended)."
            )
            % {"campaign": campaign.title},
            code=errors.CAMPAIGN_CLOSED,
            field=field,
        )
    return campaign


# --- A donation's life (called by the handler, inside payments' transactions) ------------


def _donor_key(order: Order, line_id: int) -> str:
    if order.user_id is not None:
        return f"user:{order.user_id}"
    if order.email:
        return f"email:{order.email.strip().lower()}"
    return f"line:{line_id}"


def donations_create(*, order: Order, lines: list[Any]) -> list[Donation]:
    """The pending donations of a new order's ``donation`` lines (the order is being created
    in the caller's transaction)."""
    user = order.user
    donations = []
    for line in lines:
        reference = line.reference
        name = reference.get("name") or (user.get_full_name() if user is not None else "")
        donations.append(
            Donation(
                order=order,
                line=line,
                campaign_id=reference.get("campaign"),
                amount=line.unit_price,
                currency=order.currency,
                donor=user,
                donor_name=name[:120],
                email=order.email,
                donor_key=_donor_key(order, line.pk),
                anonymous=bool(reference.get("anonymous")),
                message=(reference.get("message") or "")[:500],
            )
        )
    return Donation.objects.bulk_create(donations)


def lock_campaigns(campaign_ids: Iterable[int | None]) -> None:
    """The campaigns' row locks, in the order of their ids, held until the transaction ends:
    gifts to one campaign are counted one after the other (a wait beyond
    ``LOCK_TIMEOUT_SECONDS`` answers 409 busy)."""
    wanted = sorted({pk for pk in campaign_ids if pk is not None})
    if wanted:
        # No key lock: new gifts (rows referring to the campaign) are not held up by it.
        lock_rows(Campaign.objects.filter(pk__in=wanted).only("pk"), no_key=True)


def gave_before(donation: Donation, campaign_id: int) -> bool:
    """Whether the donor has another paid gift to the campaign. Read under the campaign's
    lock, and as a locking read: MySQL's repeatable read would otherwise answer from the
    transaction's first snapshot and miss a gift committed since."""
    return (
        Donation.objects.select_for_update()
        .filter(
            campaign_id=campaign_id,
            donor_key=donation.donor_key,
            status=DonationStatus.PAID,
        )
        .exclude(pk=donation.pk)
        .exists()
    )


def _count(donation: Donation, sign: int) -> None:
    """Add (``sign`` = 1) or take away (-1) a paid gift from its campaign's totals (its lock
    taken): the donor counts once, with their first gift, and leaves with their last."""
    campaign_id = donation.campaign_id
    if campaign_id is None:
        return
    donor = 0 if gave_before(donation, campaign_id) else sign
    readcache.changed(readcache.CAMPAIGNS)
    Campaign.objects.filter(pk=campaign_id).update(
        raised=F("raised") + sign * donation.amount,
        donation_count=F("donation_count") + sign,
        donor_count=F("donor_count") + donor,
    )


# Called by the handler inside payments' transactions, which record the order's payment,
# cancellation or refund in the audit trail. These write no audit entry of their own: the
# handlers of the other kinds of the order (tickets' slots) take their locks after this one,
# and an entry here would hold the audit chain head while they wait (lock order: campaign,
# slots, audit head).


def donations_paid(*, order: Order) -> list[Donation]:
    """The order was paid: its gifts count. A gift whose order expired unpaid and was paid
    late counts too (nothing was reserved for it)."""
    now = timezone.now()
    donations = list(
        order.donations.filter(
            status__in=(DonationStatus.PENDING, DonationStatus.CANCELED),
            refunded_at__isnull=True,
        ).order_by("pk")
    )
    lock_campaigns(donation.campaign_id for donation in donations)
    for donation in donations:
        _count(donation, 1)
        donation.status = DonationStatus.PAID
        donation.paid_at = now
        donation.save(update_fields=["status", "paid_at", "updated_at"])
    return donations


def donations_given_back(*, donations: list[Donation], status: str) -> list[Donation]:
    """Paid gifts refunded (``REFUNDED``) or cancelled with their order (``CANCELED``, the
    money on its way back) leave the campaign's totals; unpaid ones just end (``CANCELED``).
    Returns the paid ones given back."""
    now = timezone.now()
    lock_campaigns(d.campaign_id for d in donations if d.status == DonationStatus.PAID)
    given_back = []
    for donation in sorted(donations, key=lambda d: d.pk):
        if donation.status == DonationStatus.PAID:
            _count(donation, -1)
            donation.status = status
            donation.refunded_at = now
            given_back.append(donation)
        elif donation.status == DonationStatus.PENDING:
            donation.status = DonationStatus.CANCELED
        else:
            continue
        donation.save(update_fields=["status", "refunded_at", "updated_at"])
    return given_back


# --- Checking the totals ------------------------------------------------------------------


def campaign_recount(*, campaign: Campaign) -> dict[str, Any]:
    """Recompute a campaign's totals from its paid gifts (under its row lock) and store them;
    returns what was stored before and now. The running totals never need it; it is the
    check an operator runs after restoring a backup or editing rows by hand."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        paid = Donation.objects.filter(campaign=locked, status=DonationStatus.PAID)
        facts = paid.aggregate(
            raised=Sum("amount"),
            donations=Count("id"),
            donors=Count("donor_key", distinct=True),
        )
        now = {
            "raised": (facts["raised"] or Decimal("0")).quantize(CENT),
            "donor_count": facts["donors"],
            "donation_count": facts["donations"],
        }
        before = {name: getattr(locked, name) for name in now}
        if before != now:
            Campaign.objects.filter(pk=locked.pk).update(**now)
            readcache.changed(readcache.CAMPAIGNS)
            audit.record(
                action="donations.campaign.recounted",
                actor=audit.SYSTEM,
                target=locked,
                changes={
                    name: [before[name], now[name]] for name in now if before[name] != now[name]
                },
            )
    return {"before": before, "now": now}
