"""Review of issue 12: bugs found from outside, kept as regression tests."""

from decimal import Decimal

import pytest
from django.test import Client

from apps.business.donations.models import Campaign, Donation, DonationStatus
from apps.business.invoicing.models import Invoice, InvoiceKind
from apps.business.payments.models import Refund
from apps.support.security.roles import Role
from tests.donations.conftest import DONATIONS, ORDERS, donation_line
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

FORM = {
    "slug": "adm",
    "title_es": "T",
    "title_en": "",
    "story_es": "",
    "story_en": "",
    "goal": "1000.00",
    "currency": "CRC",
    "suggested_amounts": "[]",
    "starts_at_0": "2026-01-01",
    "starts_at_1": "00:00:00",
    "ends_at_0": "",
    "ends_at_1": "",
    "is_public": "on",
}


@pytest.mark.parametrize(
    "suggested", ['["abc"]', '"abc"', "[null]", "5000", '{"a": 1}', "[[1]]", "[true]"]
)
def test_the_back_office_refuses_suggested_amounts_that_are_not_amounts(suggested):
    """Was a 500 (InvalidOperation / TypeError from Decimal() in _checked_campaign_data): the
    admin's JSON field hands the service any JSON, the API's serializer never does."""
    client = Client(raise_request_exception=False)
    client.force_login(staff_member(Role.FINANCE))

    response = client.post(
        "/admin/donations/campaign/add/", FORM | {"suggested_amounts": suggested}
    )

    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors
    assert not Campaign.objects.exists()


def test_a_money_only_refund_never_leaves_a_gift_standing(
    campaign, finance_client, django_capture_on_commit_callbacks
):
    """Was: an amount refunding everything credited the gift on the credit note while the gift
    stayed paid, counted on its campaign, with a valid receipt. An order holding a gift is
    refunded by its lines (or whole); once the gift's line is refunded, amounts are fine."""
    visitor = client_for(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        order = visitor.post(
            ORDERS, {"lines": [donation_line("4000.00", campaign)]}, format="json"
        ).json()
        paid = visitor.post(f"{ORDERS}{order['id']}/pay/", {"gateway": "sandbox"}, format="json")
    assert paid.status_code == 200

    refused = finance_client.post(
        f"{ORDERS}{order['id']}/refunds/", {"amount": "4000.00"}, format="json"
    )

    assert (refused.status_code, refused.json()["code"]) == (409, "refund_by_lines")
    assert [e["field"] for e in refused.json()["errors"]] == ["amount"]
    assert Refund.objects.count() == 0
    donation = Donation.objects.get(order_id=order["id"])
    campaign.refresh_from_db()
    assert donation.status == DonationStatus.PAID
    assert (campaign.raised, campaign.donor_count) == (Decimal("4000.00"), 1)
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
    with django_capture_on_commit_callbacks(execute=True):
        whole = finance_client.post(f"{ORDERS}{order['id']}/refunds/", {}, format="json")
    assert (whole.status_code, whole.json()["status"]) == (201, "succeeded")
    donation.refresh_from_db()
    campaign.refresh_from_db()
    assert donation.status == DonationStatus.REFUNDED
    assert (campaign.raised, campaign.donor_count) == (Decimal("0.00"), 0)
    assert visitor.get(f"{DONATIONS}{donation.pk}/receipt/").status_code == 409
