"""Fundraising in the back office: campaigns written through the donations services (their
totals are never typed: they come from paid gifts), donations as records (given back by
refunding their order line, in payments)."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.support.common.admin import RecordAdmin, ServiceForm, ServiceFormAdmin

from . import services
from .models import Campaign, Donation
from .services import CAMPAIGN_FIELDS


class CampaignForm(ServiceForm):
    class Meta:
        model = Campaign
        fields = (*CAMPAIGN_FIELDS, "image")

    def write(self) -> Campaign:
        data = self.submitted(CAMPAIGN_FIELDS)
        campaign = (
            services.campaign_create(data=data)
            if self.adding
            else services.campaign_update(campaign=self.instance, data=data)
        )
        if "image" in self.changed_data:
            services.campaign_image_set(campaign=campaign, image=self.cleaned_data["image"] or None)
        return campaign


@admin.register(Campaign)
class CampaignAdmin(ServiceFormAdmin):
    """Never deleted (gifts refer to it): close it with "ends at" or "public"."""

    form = CampaignForm
    list_display = (
        "title_es",
        "slug",
        "goal",
        "raised",
        "donor_count",
        "donation_count",
        "starts_at",
        "ends_at",
        "is_public",
    )
    list_filter = ("is_public",)
    search_fields = ("title_es", "title_en", "slug")
    date_hierarchy = "starts_at"
    readonly_fields = ("raised", "donor_count", "donation_count")
    actions = ("recount",)

    @admin.action(description=_("Recount the totals from the paid gifts"))
    def recount(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        results = [services.campaign_recount(campaign=campaign) for campaign in queryset]
        fixed = sum(result["before"] != result["now"] for result in results)
        self.message_user(
            request,
            _("%(count)d campaigns checked, %(fixed)d corrected.")
            % {"count": len(results), "fixed": fixed},
        )


@admin.register(Donation)
class DonationAdmin(RecordAdmin):
    list_display = (
        "receipt",
        "campaign",
        "amount",
        "currency",
        "status",
        "donor_name",
        "email",
        "anonymous",
        "paid_at",
        "order",
    )
    list_filter = ("status", "anonymous", "campaign", ("paid_at", admin.DateFieldListFilter))
    search_fields = ("donor_name", "email", "order__code", "message")
    date_hierarchy = "created_at"
    list_select_related = ("campaign", "order")
    raw_id_fields = ("order", "line", "donor")

    @admin.display(description=_("receipt"))
    def receipt(self, donation: Donation) -> str:
        return donation.receipt_number

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("campaign", "order")
