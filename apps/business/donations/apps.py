from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "apps.business.donations"
    label = "donations"
    verbose_name = _("Donations")

    def ready(self) -> None:
        from apps.business.payments.handlers import register_item_handler
        from apps.support.audit.registry import audit_register
        from apps.support.common import readcache

        from .handlers import DonationHandler
        from .models import Campaign

        register_item_handler(DonationHandler())
        # Donations themselves are recorded by the order's and refund's entries (payments)
        # and by the donation service's own entries, written after the campaign row lock.
        audit_register(Campaign, exclude=("raised", "donor_count", "donation_count"))
        # Totals are added with UPDATE (no signal): the donation services say so themselves.
        readcache.watch(readcache.CAMPAIGNS, Campaign)
