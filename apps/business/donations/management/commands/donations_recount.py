"""Check every campaign's running totals against its paid gifts, and correct them."""

from typing import Any

from django.core.management.base import BaseCommand

from apps.business.donations.models import Campaign
from apps.business.donations.services import campaign_recount


class Command(BaseCommand):
    help = (
        "Recompute each campaign's raised amount, donor and donation counts from its paid "
        "gifts; print and correct any difference (exit status 1 when one was found)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        differences = 0
        for campaign in Campaign.objects.order_by("pk"):
            result = campaign_recount(campaign=campaign)
            if result["before"] != result["now"]:
                differences += 1
                self.stdout.write(
                    f"{campaign.slug}: {result['before']} -> {result['now']} (corrected)"
                )
        self.stdout.write(f"{Campaign.objects.count()} campaigns checked, {differences} corrected.")
        if differences:
            raise SystemExit(1)
