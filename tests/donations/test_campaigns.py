"""Campaigns: written by finance and content editors, read by everyone while public, never
deleted; their totals only ever come from paid gifts."""

import io
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from apps.business.donations.models import Campaign
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member

from .conftest import CAMPAIGNS, donation_line, give, make_campaign

pytestmark = pytest.mark.django_db


def body(**fields):
    now = timezone.now()
    return {
        "slug": "arrecife",
        "title_es": "Restauración del arrecife",
        "title_en": "Reef restoration",
        "story_es": "Sembramos corales.",
        "goal": "2500000.00",
        "suggested_amounts": ["10000.00", "2000.00", "2000.00"],
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=60)).isoformat(),
        "is_public": True,
    } | fields


@pytest.mark.parametrize("role", [Role.CONTENT_EDITOR, Role.FINANCE])
def test_campaign_editors_create_and_change_campaigns(role):
    client = client_for(staff_member(role))

    created = client.post(CAMPAIGNS, body(), format="json")

    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["suggested_amounts"] == ["2000.00", "10000.00"]
    assert (data["raised"], data["donor_count"], data["percentage"], data["days_left"]) == (
        "0.00",
        0,
        "0.0",
        60,
    )
    changed = client.patch(
        f"{CAMPAIGNS}{data['id']}/", {"goal": "3000000.00", "raised": "999.00"}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    campaign = Campaign.objects.get()
    assert (campaign.goal, campaign.raised) == (Decimal("3000000.00"), Decimal("0.00"))
    assert client.delete(f"{CAMPAIGNS}{data['id']}/").status_code == 405
    actions = (
        AuditEvent.objects.filter(target_type="donations.campaign")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert list(actions) == ["donations.campaign.created", "donations.campaign.updated"]


@pytest.mark.parametrize(
    ("user", "expected"),
    [(None, 401), ("visitor", 403), (Role.TICKET_OFFICE, 403), (Role.AUDITOR, 403)],
)
def test_others_may_not_write_campaigns(user, expected):
    if user == "visitor":
        user = UserFactory()
    elif user is not None:
        user = staff_member(user)

    answer = client_for(user).post(CAMPAIGNS, body(), format="json")

    assert answer.status_code == expected
    assert Campaign.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"suggested_amounts": ["100.00"]}, "suggested_amount_out_of_range", "suggested_amounts.0"),
        ({"currency": "USD"}, "currency_not_sold", "currency"),
        ({"goal": "0"}, "validation_error", "goal"),
        ({"ends_at": "2020-01-01T00:00:00Z"}, "validation_error", None),
        ({"slug": "no slug"}, "validation_error", "slug"),
    ],
)
def test_a_wrong_campaign_is_refused(fields, code, field):
    answer = client_for(staff_member(Role.FINANCE)).post(CAMPAIGNS, body(**fields), format="json")

    assert answer.status_code == 400, answer.json()
    assert answer.json()["code"] == code
    if field is not None:
        assert field in [error["field"] for error in answer.json()["errors"]]
    assert Campaign.objects.count() == 0


def test_visitors_see_public_campaigns_that_have_started():
    now = timezone.now()
    shown = make_campaign(slug="abierta")
    ended = make_campaign(
        slug="terminada", starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=1)
    )
    make_campaign(slug="borrador", is_public=False)
    make_campaign(slug="futura", starts_at=now + timedelta(days=3), ends_at=None)

    listed = client_for(None).get(CAMPAIGNS).json()["results"]
    staff = client_for(staff_member(Role.CONTENT_EDITOR)).get(CAMPAIGNS).json()["results"]

    assert {row["slug"]: row["is_open"] for row in listed} == {"abierta": True, "terminada": False}
    assert {row["slug"]: row["days_left"] for row in listed} == {"abierta": 30, "terminada": 0}
    assert {row["slug"] for row in staff} == {"abierta", "terminada", "borrador", "futura"}
    hidden = Campaign.objects.get(slug="borrador")
    assert client_for(None).get(f"{CAMPAIGNS}{hidden.pk}/").status_code == 404
    assert client_for(None).get(f"{CAMPAIGNS}{hidden.pk}/donors/").status_code == 404
    assert {row["id"] for row in listed} == {shown.pk, ended.pk}


def test_the_title_comes_in_the_language_asked_for(campaign):
    spanish = client_for(None).get(f"{CAMPAIGNS}{campaign.pk}/").json()
    english = (
        client_for(None).get(f"{CAMPAIGNS}{campaign.pk}/", headers={"Accept-Language": "en"}).json()
    )
    assert (spanish["title"], english["title"]) == ("Rescate de tortugas", "Turtle rescue")


def test_a_campaign_picture_is_checked_by_its_content(campaign):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "teal").save(buffer, "PNG")
    png_bytes = buffer.getvalue()
    client = client_for(staff_member(Role.CONTENT_EDITOR))
    fake = SimpleUploadedFile("tortuga.png", b"not an image", content_type="image/png")
    refused = client.post(f"{CAMPAIGNS}{campaign.pk}/image/", {"image": fake}, format="multipart")
    assert refused.status_code == 400
    campaign.refresh_from_db()
    assert not campaign.image

    real = SimpleUploadedFile("tortuga.png", png_bytes, content_type="image/png")
    taken = client.post(f"{CAMPAIGNS}{campaign.pk}/image/", {"image": real}, format="multipart")
    assert taken.status_code == 200, taken.json()
    assert taken.json()["image"].endswith(".png")
    assert client.delete(f"{CAMPAIGNS}{campaign.pk}/image/").status_code == 204
    campaign.refresh_from_db()
    assert not campaign.image


def test_recount_corrects_totals_edited_by_hand(campaign):
    give(client_for(UserFactory()), donation_line("1500.00", campaign))
    Campaign.objects.filter(pk=campaign.pk).update(raised=Decimal("9.99"), donor_count=7)
    out = StringIO()

    with pytest.raises(SystemExit) as exit_status:
        call_command("donations_recount", stdout=out)

    assert exit_status.value.code == 1
    campaign.refresh_from_db()
    assert (campaign.raised, campaign.donor_count, campaign.donation_count) == (
        Decimal("1500.00"),
        1,
        1,
    )
    assert "tortugas:" in out.getvalue()
    out = StringIO()
    call_command("donations_recount", stdout=out)
    assert out.getvalue().strip() == "1 campaigns checked, 0 corrected."


def test_the_back_office_lists_campaigns_and_donations(client, finance, campaign):
    give(client_for(UserFactory(email="ana@example.org")), donation_line("1500.00", campaign))
    client.force_login(finance)

    campaigns = client.get("/admin/donations/campaign/", {"q": "tortugas", "is_public__exact": "1"})
    donations = client.get("/admin/donations/donation/", {"q": "ana@example.org", "status": "paid"})
    change = client.get(f"/admin/donations/donation/{campaign.donations.get().pk}/change/")

    assert campaigns.context["cl"].result_count == 1
    assert donations.context["cl"].result_count == 1
    assert change.status_code == 200
    assert client.get("/admin/donations/donation/add/").status_code == 403
    edit = client.post(
        f"/admin/donations/campaign/{campaign.pk}/change/",
        {
            "slug": campaign.slug,
            "title_es": "Tortugas marinas",
            "title_en": campaign.title_en,
            "story_es": "",
            "story_en": "",
            "goal": "1000000.00",
            "currency": "CRC",
            "suggested_amounts": '["2000.00"]',
            "starts_at_0": timezone.localtime(campaign.starts_at).strftime("%Y-%m-%d"),
            "starts_at_1": timezone.localtime(campaign.starts_at).strftime("%H:%M:%S"),
            "ends_at_0": "",
            "ends_at_1": "",
            "is_public": "on",
        },
    )
    assert edit.status_code == 302, edit.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert (campaign.title_es, campaign.ends_at, campaign.raised) == (
        "Tortugas marinas",
        None,
        Decimal("1500.00"),
    )
