import django_filters

from api.filters import IntegerFilter
from apps.business.donations.models import Campaign, Donation


class CampaignFilter(django_filters.FilterSet):
    class Meta:
        model = Campaign
        fields = ("is_public",)


class DonationFilter(django_filters.FilterSet):
    campaign = IntegerFilter(field_name="campaign")

    class Meta:
        model = Donation
        fields = ("campaign", "status", "anonymous")
