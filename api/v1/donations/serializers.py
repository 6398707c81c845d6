from typing import Any

from django.utils import timezone
from rest_framework import serializers

from api.reports import MoneyOutField, ReportQuery, report_group_by, report_serializer
from api.serializers import InputSerializer, ModelSerializer, MoneyField
from api.v1.payments.lines import register_line_input
from apps.business.donations.models import Campaign, Donation
from apps.business.donations.selectors import REPORT_GROUPS
from apps.business.donations.services import CAMPAIGN_FIELDS

MAX_ID = 2**31 - 1


class DonationLineInput(InputSerializer):
    """An order line giving ``amount`` to a campaign (or, without one, the park's general
    fund), alone or beside tickets in the same order."""

    kind = serializers.ChoiceField(choices=["donation"])
    amount = MoneyField(
        max_digits=12,
        decimal_places=2,
        help_text="Within the park's minimum and maximum (e.g. 500.00 to 5000000.00), or one "
        "of the campaign's `suggested_amounts`.",
    )
    campaign = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None
    )
    anonymous = serializers.BooleanField(
        default=False, help_text="Never shown by name on the campaign's donor wall."
    )
    message = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Shown on the campaign's donor wall.",
    )
    name = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="As the donor wants to be shown; by default the account's name.",
    )
    quantity = serializers.IntegerField(
        min_value=1, max_value=1000, default=1, help_text="Always 1: one gift per line."
    )


# Orders carry donations through payments (the handler is registered by the donations app).
register_line_input("donation", DonationLineInput)


class CampaignSerializer(ModelSerializer):
    goal = MoneyField(max_digits=12, decimal_places=2, min_value=1)
    suggested_amounts = serializers.ListField(
        child=MoneyField(max_digits=12, decimal_places=2, min_value=0),
        max_length=12,
        required=False,
        help_text="Amounts offered as buttons, each within the park's minimum and maximum.",
    )
    title = serializers.CharField(read_only=True, help_text="In the language asked for.")
    raised = MoneyField(max_digits=14, decimal_places=2, read_only=True)
    donor_count = serializers.IntegerField(read_only=True)
    percentage = serializers.DecimalField(
        max_digits=9,
        decimal_places=1,
        read_only=True,
        help_text="Of the goal (above 100 once met).",
    )
    days_left = serializers.SerializerMethodField(
        help_text="Whole days until it ends; null when it has no end."
    )
    is_open = serializers.SerializerMethodField(help_text="Taking donations now.")
    image = serializers.ImageField(read_only=True)

    class Meta:
        model = Campaign
        fields = (
            "id",
            *CAMPAIGN_FIELDS,
            "title",
            "image",
            "raised",
            "donor_count",
            "percentage",
            "days_left",
            "is_open",
        )

    def get_days_left(self, campaign: Campaign) -> int | None:
        return campaign.days_left(self.context.get("now") or timezone.now())

    def get_is_open(self, campaign: Campaign) -> bool:
        return campaign.is_open(self.context.get("now") or timezone.now())

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        data["suggested_amounts"] = list(instance.suggested_amounts)
        return data


class CampaignImageInput(InputSerializer):
    image = serializers.ImageField(help_text="JPEG, PNG or WebP; checked by content.")


class DonorWallSerializer(serializers.ModelSerializer):
    """A public line of a campaign's wall: never an email, never an anonymous donor's name."""

    name = serializers.CharField(source="public_name", read_only=True)
    amount = MoneyField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Donation
        fields = ("name", "message", "amount", "currency", "paid_at")
        read_only_fields = fields


class DonationSerializer(serializers.ModelSerializer):
    receipt_number = serializers.CharField(read_only=True)
    order = serializers.CharField(source="order.code", read_only=True)
    order_id = serializers.IntegerField(read_only=True)
    campaign_title = serializers.SerializerMethodField()
    amount = MoneyField(max_digits=12, decimal_places=2, read_only=True)

    class Meta:
        model = Donation
        fields = (
            "id",
            "receipt_number",
            "order",
            "order_id",
            "campaign",
            "campaign_title",
            "amount",
            "currency",
            "status",
            "donor_name",
            "email",
            "anonymous",
            "message",
            "paid_at",
            "refunded_at",
            "receipt_sent_at",
            "created_at",
        )
        read_only_fields = fields

    def get_campaign_title(self, donation: Donation) -> str | None:
        return donation.campaign.title if donation.campaign is not None else None


class DonationsQuery(ReportQuery):
    group_by = report_group_by(REPORT_GROUPS)


class DonationTotalsSerializer(serializers.Serializer):
    donations = serializers.IntegerField(help_text="Gifts paid in the period.")
    donors = serializers.IntegerField(help_text="Distinct donors (an account, else an email).")
    given = MoneyOutField(help_text="What they gave.")
    refunded = MoneyOutField(help_text="Of that, what was given back since.")


# Rows: a campaign's id ("general": the park's general fund) or a day (YYYY-MM-DD).
DonationsReportSerializer = report_serializer("Donations", DonationTotalsSerializer)
