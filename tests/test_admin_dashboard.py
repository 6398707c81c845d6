"""The back office's first page (``/admin/``): each role sees the panels of its work and no
other, with the numbers of the records; the charts' JSON; a fixed number of queries whatever
the rows; the page in the staff member's language."""

import html
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.business.donations.models import Donation, DonationStatus
from apps.business.infrastructure.models import WaterAlert, WaterReading
from apps.business.payments import models as payments
from apps.business.tickets.models import CheckIn, Reservation, Ticket
from apps.business.wildlife.models import Weight
from apps.support.security.roles import Role
from tests.factories import (
    AnimalFactory,
    HabitatFactory,
    SessionFactory,
    TicketTypeFactory,
    TimeSlotFactory,
    UserFactory,
)
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db

SLOTS = "Today's time slots"
SALES = "Sales of the last 30 days"
DONATIONS = "Donations of the last 30 days"
ALERTS = "Open water-quality alerts"
IN_CARE = "Animals in quarantine or in treatment"
WEIGHTS = "Weights overdue"
SESSIONS = "Upcoming education sessions"
WEBHOOKS = "Failed webhook events"
REFUNDS = "Refunds waiting or failed"
EVERY_PANEL = [SLOTS, SALES, DONATIONS, ALERTS, IN_CARE, WEIGHTS, SESSIONS, WEBHOOKS, REFUNDS]

PANELS_OF = {
    Role.ADMINISTRATOR: EVERY_PANEL,
    Role.CURATOR: [ALERTS, IN_CARE, WEIGHTS],
    Role.VETERINARIAN: [ALERTS, IN_CARE, WEIGHTS],
    Role.AQUARIST: [ALERTS],
    Role.EDUCATOR: [SESSIONS],
    Role.CONTENT_EDITOR: [],
    Role.TICKET_OFFICE: [SLOTS],
    Role.GATE_STAFF: [SLOTS],
    Role.FINANCE: [SLOTS, SALES, DONATIONS, WEBHOOKS, REFUNDS],
    Role.AUDITOR: [SALES, DONATIONS],
}


def english(user):
    user.preferred_language = "en"
    user.save(update_fields=["preferred_language"])
    return user


def dashboard(client, user, **headers):
    client.force_login(user)
    response = client.get("/admin/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def headings(page):
    return [
        html.unescape(title)
        for title in re.findall(r'<h2 id="panel-[a-z_]+-title">([^<]+)</h2>', page)
    ]


def panel(page, key):
    """The HTML of one panel."""
    match = re.search(rf'<section[^>]* id="panel-{key}"[^>]*>(.*?)</section>', page, re.S)
    assert match, key
    return match.group(1)


def rows(page):
    """Each table row's cells, as text."""
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)
    ]


def paid_order(amount, *, paid_at, kind="ticket"):
    order = payments.Order.objects.create(
        channel="online",
        email="buyer@example.test",
        status=payments.OrderStatus.PAID,
        currency="CRC",
        total=amount,
        expires_at=paid_at,
        paid_at=paid_at,
    )
    line = payments.OrderLine.objects.create(
        order=order, kind=kind, description=kind, unit_price=amount, quantity=1, total=amount
    )
    return order, line


def the_park(count=1):
    """``count`` rows for every panel."""
    now = timezone.now()
    staff = UserFactory()
    ticket_type = TicketTypeFactory()
    for _ in range(count):
        slot = TimeSlotFactory(capacity=40, sold=3)
        order, _line = paid_order(Decimal("30.00"), paid_at=now)
        confirmed = Reservation.objects.create(
            order=order,
            slot=slot,
            ticket_type=ticket_type,
            quantity=3,
            unit_price=Decimal("10.00"),
            status="confirmed",
            expires_at=now,
        )
        tickets = [
            Ticket.objects.create(
                order=order, reservation=confirmed, slot=slot, ticket_type=ticket_type, price=10
            )
            for _ in range(3)
        ]
        CheckIn.objects.create(
            ticket=tickets[0], gate="north", checked_in_at=now, checked_in_by=staff
        )
        pending = payments.Order.objects.create(
            channel="online",
            email="buyer@example.test",
            currency="CRC",
            total=20,
            expires_at=now + timedelta(minutes=10),
        )
        Reservation.objects.create(
            order=pending,
            slot=slot,
            ticket_type=ticket_type,
            quantity=2,
            unit_price=Decimal("10.00"),
            expires_at=now + timedelta(minutes=10),
        )
        gift, line = paid_order(Decimal("25.00"), paid_at=now, kind="donation")
        Donation.objects.create(
            order=gift,
            line=line,
            amount=Decimal("25.00"),
            currency="CRC",
            status=DonationStatus.PAID,
            paid_at=now,
        )
        habitat = HabitatFactory(kind="quarantine")
        reading = WaterReading.objects.create(
            habitat=habitat, taken_at=now, taken_by=staff, ph=Decimal("7.2")
        )
        WaterAlert.objects.create(
            habitat=habitat,
            parameter="ph",
            direction="low",
            opened_at=now - timedelta(hours=5, minutes=10),
            opened_by_reading=reading,
            last_value=Decimal("7.200"),
            last_reading=reading,
        )
        AnimalFactory(current_habitat=habitat)
        SessionFactory()
        payments.WebhookEvent.objects.create(
            gateway="stripe",
            event_id=f"evt_{payments.WebhookEvent.objects.count()}",
            event_type="charge.refunded",
            body="{}",
            status=payments.WebhookStatus.FAILED,
        )
        payment = payments.Payment.objects.create(
            order=order, method="sandbox", amount=Decimal("30.00"), currency="CRC"
        )
        payments.Refund.objects.create(
            payment=payment,
            amount=Decimal("30.00"),
            currency="CRC",
            scope="order",
            status=payments.RefundStatus.FAILED,
        )
    return slot


@pytest.mark.parametrize("role", list(PANELS_OF))
def test_each_role_sees_the_panels_of_its_work_and_no_other(client, role):
    page = dashboard(client, english(staff_member(role)))
    assert headings(page) == PANELS_OF[role]


def test_a_superuser_sees_every_panel(client):
    superuser = english(UserFactory(is_staff=True, is_superuser=True))
    assert headings(dashboard(client, superuser)) == EVERY_PANEL


def test_a_visitor_cannot_reach_the_back_office(client):
    client.force_login(UserFactory())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_the_models_are_still_listed_below_the_panels(client):
    page = dashboard(client, english(staff_member(Role.TICKET_OFFICE)))
    assert page.index('id="panel-slots"') < page.index('class="app-tickets module')


def test_todays_slot_shows_sold_held_and_checked_in_against_its_capacity(client):
    slot = the_park()
    page = dashboard(client, english(staff_member(Role.TICKET_OFFICE)))
    start = timezone.localtime(slot.starts_at).strftime("%H:%M")
    end = timezone.localtime(slot.ends_at).strftime("%H:%M")
    slots = panel(page, "slots")
    assert rows(slots) == [
        ["Time", "Sold", "Held", "Checked in", "Capacity"],
        [f"{start}\u2013{end}", "3", "2", "1", "40"],
    ]
    today = timezone.localdate().isoformat()
    assert f'href="/admin/tickets/timeslot/?date={today}"' in slots


def test_the_charts_carry_the_sales_and_donations_of_each_of_the_last_30_days(client):
    the_park()
    page = dashboard(client, english(staff_member(Role.FINANCE)))
    today = timezone.localdate()
    days = [(today - timedelta(days=back)).isoformat() for back in range(29, -1, -1)]
    sales = re.search(
        r'<script id="dashboard-sales-data" type="application/json">(.*?)</script>', page
    )
    gifts = re.search(
        r'<script id="dashboard-donations-data" type="application/json">(.*?)</script>', page
    )
    # Sales are every line of the orders paid (the finance sales report): 30 + the 25 gift.
    assert json.loads(sales.group(1)) == {
        "label": "Sales (paid orders)",
        "currency": "CRC",
        "labels": days,
        "values": ["0.00"] * 29 + ["55.00"],
    }
    assert json.loads(gifts.group(1)) == {
        "label": "Donations",
        "currency": "CRC",
        "labels": days,
        "values": ["0.00"] * 29 + ["25.00"],
    }
    # The same numbers, as a table.
    table = rows(panel(page, "donations"))
    assert table[0] == ["Day", "Donations (CRC)"]
    assert table[1:] == [[day, "0.00"] for day in days[:-1]] + [[days[-1], "25.00"]]


def test_the_collection_panels_show_the_alert_the_animals_and_their_weights(client):
    the_park()
    page = dashboard(client, english(staff_member(Role.CURATOR)))
    alert = WaterAlert.objects.get()
    assert rows(panel(page, "water_alerts")) == [
        ["Habitat", "Parameter", "Last value", "Hours open"],
        [alert.habitat.name, "pH (Low)", "7.200", "5"],
    ]
    animal = alert.habitat.animals.get()
    in_care = panel(page, "animals_in_care")
    assert rows(in_care)[1] == [
        f"{animal.institutional_id} ({animal.house_name})",
        str(animal.species),
        alert.habitat.name,
        "In collection",
    ]
    assert f'href="/admin/wildlife/animal/?id__in={animal.pk}"' in in_care
    assert rows(panel(page, "weights_overdue"))[1][-1] == "never"


def test_a_weight_within_the_overdue_days_takes_the_animal_off_the_list(client, settings):
    settings.BACK_OFFICE_WEIGHT_OVERDUE_DAYS = 10
    recent, late = AnimalFactory(), AnimalFactory()
    curator = english(staff_member(Role.CURATOR))
    now = timezone.now()
    Weight.objects.create(
        animal=recent, weighed_at=now - timedelta(days=9), weight_kg=3, recorded_by=curator
    )
    Weight.objects.create(
        animal=late, weighed_at=now - timedelta(days=11), weight_kg=3, recorded_by=curator
    )
    weights = panel(dashboard(client, curator), "weights_overdue")
    assert [row[0] for row in rows(weights)[1:]] == [f"{late.institutional_id} ({late.house_name})"]
    assert "without a weight in the last 10 days" in weights


def test_finance_sees_the_failed_event_and_the_failed_refund(client):
    the_park()
    page = dashboard(client, english(staff_member(Role.FINANCE)))
    refund = payments.Refund.objects.get()
    assert rows(panel(page, "refunds"))[1][:3] == [refund.payment.order.code, "30.00 CRC", "Failed"]
    assert rows(panel(page, "webhook_events"))[1][1:] == ["stripe", "charge.refunded", "0"]
    assert 'href="/admin/payments/refund/?status__in=pending%2Cfailed"' in page


def test_the_educator_sees_the_seats_left(client):
    session = SessionFactory()
    page = dashboard(client, english(staff_member(Role.EDUCATOR)))
    assert rows(panel(page, "sessions"))[1][1:] == [str(session.program), "30", "30"]


def test_the_auditor_reads_the_charts_without_a_link_to_the_orders_it_may_not_open(client):
    page = dashboard(client, english(staff_member(Role.AUDITOR)))
    assert "/admin/payments/order/" not in page
    assert "/admin/donations/donation/?paid_at__gte=" in page


def test_the_dashboard_issues_as_many_queries_for_many_rows_as_for_one(client):
    superuser = english(UserFactory(is_staff=True, is_superuser=True))
    client.force_login(superuser)
    the_park(1)
    client.get("/admin/")  # content types and the API's resources, read once per process
    with CaptureQueriesContext(connection) as one:
        assert client.get("/admin/").status_code == 200
    the_park(4)
    with CaptureQueriesContext(connection) as five:
        assert client.get("/admin/").status_code == 200
    assert len(five) == len(one)


def test_the_staff_members_language_wins_over_the_browsers(client):
    english_speaker = english(staff_member(Role.TICKET_OFFICE))
    page = dashboard(client, english_speaker, HTTP_ACCEPT_LANGUAGE="es")
    assert headings(page) == ["Today's time slots"]
    assert '<html lang="en"' in page


def test_a_staff_member_who_kept_spanish_reads_spanish_whatever_the_browser(client):
    # Every account has a language (Spanish unless changed): the browser's is for the sign-in.
    spanish_speaker = staff_member(Role.TICKET_OFFICE)
    assert spanish_speaker.preferred_language == "es"
    page = dashboard(client, spanish_speaker, HTTP_ACCEPT_LANGUAGE="en")
    assert headings(page) == ["Franjas horarias de hoy"]
    assert '<html lang="es"' in page


def test_the_sign_in_page_follows_the_browser(client):
    response = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="en"' in response.content.decode()


def test_each_panels_link_opens_its_filtered_list(client):
    the_park()
    superuser = english(UserFactory(is_staff=True, is_superuser=True))
    page = dashboard(client, superuser)
    links = re.findall(r'<p class="dashboard-panel-link"><a href="([^"]+)">', page)
    assert len(links) == len(EVERY_PANEL)
    counts = []
    for link in links:
        response = client.get(html.unescape(link))
        assert response.status_code == 200, link  # an unknown filter redirects to ?e=1
        counts.append(response.context["cl"].result_count)
    # One row of each (the sales link lists both paid orders: the tickets' and the gift's).
    assert counts == [1, 2, 1, 1, 1, 1, 1, 1, 1]
