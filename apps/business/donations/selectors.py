"""Reads of the donations module."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import Campaign, Donation, DonationStatus


def campaign_list(*, staff: bool) -> QuerySet[Campaign]:
    """Visitors see public campaigns that have started (ended ones stay readable, with their
    totals); campaign editors and finance see every one."""
    if staff:
        return Campaign.objects.all()
    return Campaign.objects.filter(is_public=True, starts_at__lte=timezone.now())


def campaign_open_filter(now: object = None) -> Q:
    now = now or timezone.now()
    return Q(is_public=True, starts_at__lte=now) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))


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
