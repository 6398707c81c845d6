"""Reads of the donations module."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.support.common.reports import ZERO, Period, Report, park_currency, rows_per_day

from .models import Campaign, Donation, DonationStatus


def campaign_list(*, staff: bool) -> QuerySet[Campaign]:
    """Visitors see public campaigns that have started (ended ones stay readable, with their
    totals); campaign editors and finance see every one."""
    if staff:
        return Campaign.objects.all()
    return Campaign.objects.filter(is_public=True, starts_at__lte=timezone.now())


def campaigns_change_at(now: datetime) -> datetime | None:
    """When what visitors read of campaigns next changes with no write: one starts or ends,
    or the whole days left of an open one go down."""
    moments: list[datetime] = []
    for starts_at, ends_at in Campaign.objects.filter(
        Q(starts_at__gt=now) | Q(ends_at__gt=now)
    ).values_list("starts_at", "ends_at"):
        if starts_at > now:
            moments.append(starts_at)
        if ends_at is not None and ends_at > now:
            left = (ends_at - now).total_seconds() % 86400 or 86400
            moments.append(min(ends_at, now + timedelta(seconds=left)))
    return min(moments, default=None)


def donor_wall(campaign: Campaign) -> QuerySet[Donation]:
    """The campaign's paid gifts, newest first, for its public wall (the serializer shows a
    name only when the donor allowed it, and never an email)."""
    return (
        Donation.objects.filter(campaign=campaign, status=DonationStatus.PAID)
        .only("id", "donor_name", "anonymous", "message", "amount", "currency", "paid_at")
        .order_by("-paid_at", "-id")
    )


def donation_list() -> QuerySet[Donation]:
    return Donation.objects.select_related("campaign", "order")


REPORT_GROUPS = ("campaign", "day")
GENERAL_FUND = "general"
NO_GIFTS: dict[str, Any] = {"donations": 0, "donors": 0, "given": ZERO, "refunded": ZERO}


def donations_report(*, period: Period, group_by: str) -> Report:
    """Gifts paid in ``period`` (on the park's day they were paid), per campaign or day:
    ``donations`` (how many), ``donors`` (distinct: an account, else an email), ``given``
    (their amount) and ``refunded`` (of those, what was given back since, whenever). Names
    and emails are never part of it."""
    gifts = Donation.objects.filter(
        paid_at__gte=period.start, paid_at__lt=period.end, currency=park_currency()
    )
    measures = {
        "donations": Count("id"),
        "donors": Count("donor_key", distinct=True),
        "given": Coalesce(Sum("amount"), ZERO),
        "refunded": Coalesce(Sum("amount", filter=Q(refunded_at__isnull=False)), ZERO),
    }
    if group_by == "day":
        rows = rows_per_day(
            gifts, moment="paid_at", measures=measures, period=period, zero=NO_GIFTS
        )
    elif group_by == "campaign":
        per_campaign: list[dict[str, Any]] = sorted(
            (dict(row) for row in gifts.values("campaign").annotate(**measures).order_by()),
            # Campaigns by id, then the general fund (NULL sorts first or last by database).
            key=lambda row: (row["campaign"] is None, row["campaign"] or 0),
        )
        titles = dict(
            Campaign.objects.filter(
                pk__in=[row["campaign"] for row in per_campaign if row["campaign"] is not None]
            ).values_list("pk", "title_es")
        )
        rows = [
            {
                **{name: row[name] for name in NO_GIFTS},
                "key": str(row["campaign"]) if row["campaign"] is not None else GENERAL_FUND,
                "label": titles[row["campaign"]]
                if row["campaign"] is not None
                else _("The park's general fund"),
            }
            for row in per_campaign
        ]
    else:
        raise ValueError(f"unknown group_by: {group_by}")
    totals = gifts.aggregate(**measures)  # a donor may give to several campaigns or days
    return Report(period=period, group_by=group_by, rows=rows, totals=totals)
