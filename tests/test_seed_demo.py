import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.support.security.models import User

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--no-progress", "--allow-production", stdout=out, **options)
    return out.getvalue()


def test_seed_demo_creates_one_account_per_role_and_prints_them(api_client):
    output = seed()
    accounts = {
        user.email: sorted(user.groups.values_list("name", flat=True))
        for user in User.objects.prefetch_related("groups")
    }
    assert accounts == {
        "admin@parquemarino.test": ["administrator"],
        "curator@parquemarino.test": ["curator"],
        "vet@parquemarino.test": ["veterinarian"],
        "aquarist@parquemarino.test": ["aquarist"],
        "educator@parquemarino.test": ["educator"],
        "editor@parquemarino.test": ["content_editor"],
        "tickets@parquemarino.test": ["ticket_office"],
        "gate@parquemarino.test": ["gate_staff"],
        "finance@parquemarino.test": ["finance"],
        "auditor@parquemarino.test": ["auditor"],
        "visitor@parquemarino.test": [],
        # The education department's instructors, and the visitors enrolled in its sessions.
        "marina.solano@parquemarino.test": ["educator"],
        "diego.arias@parquemarino.test": ["educator"],
        "familia.mora@parquemarino.test": [],
        "familia.rojas@parquemarino.test": [],
        "escuela.esperanza@parquemarino.test": [],
    }
    for email in accounts:
        assert email in output
        response = api_client.post(
            "/api/v1/auth/token/", {"email": email, "password": "parque-marino-demo"}, format="json"
        )
        assert response.status_code == 200, email
    admin = User.objects.get(email="admin@parquemarino.test")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    visitor = User.objects.get(email="visitor@parquemarino.test")
    assert (visitor.is_staff, visitor.is_superuser) == (False, False)


def test_seed_demo_is_idempotent():
    seed()
    first = sorted(User.objects.values_list("id", "email", "is_staff", "password", "groups__name"))
    seed()
    again = sorted(User.objects.values_list("id", "email", "is_staff", "password", "groups__name"))
    assert again == first


def test_seed_demo_refuses_with_debug_off():
    with pytest.raises(CommandError, match="Refusing to load demo data"):
        call_command("seed_demo", "--no-progress", stdout=io.StringIO())
    assert User.objects.count() == 0


def test_seed_demo_fills_the_collection_and_stays_the_same_when_run_again():
    from apps.business.infrastructure.models import Habitat, WaterAlert, WaterReading
    from apps.business.wildlife.models import Animal, AnimalLocation, MedicalRecord, Species, Weight
    from apps.support.audit.models import AuditEvent

    def counts():
        return {
            model.__name__: model.objects.count()
            for model in (
                Species,
                Animal,
                AnimalLocation,
                Weight,
                MedicalRecord,
                Habitat,
                WaterReading,
                WaterAlert,
            )
        }

    seed()
    first = counts()
    assert first == {
        "Species": 15,
        "Animal": 15,
        "AnimalLocation": 17,
        "Weight": 10,
        "MedicalRecord": 2,
        "Habitat": 8,
        "WaterReading": 336,
        "WaterAlert": first["WaterAlert"],
    }
    assert list(
        WaterAlert.objects.filter(closed_at__isnull=True).values_list("habitat__name", "parameter")
    ) == [("Piscina de Tortugas", "temperature")]
    audited = AuditEvent.objects.count()
    seed()
    assert counts() == first
    assert AuditEvent.objects.count() == audited  # nothing changed, nothing recorded


def test_seed_demo_sells_tickets_at_the_park_prices_and_stays_the_same_when_run_again():
    from decimal import Decimal

    from django.db.models import Count, Sum

    from apps.business.payments.models import Order, Payment, Refund
    from apps.business.tickets.models import Ticket, TicketType, TimeSlot

    def counts():
        return {
            model.__name__: model.objects.count()
            for model in (Order, Payment, Refund, Ticket, TimeSlot, TicketType)
        }

    seed()
    assert dict(TicketType.objects.values_list("code", "price")) == {
        "child": Decimal("1600.00"),
        "adult": Decimal("2900.00"),
        "group-11": Decimal("2400.00"),
        "group-21": Decimal("2150.00"),
        "senior-disability": Decimal("700.00"),
        "adult-foreign": Decimal("9500.00"),
    }
    assert set(TicketType.objects.values_list("currency", flat=True)) == {"CRC"}
    groups = TicketType.objects.filter(min_quantity__gt=1)
    assert dict(groups.values_list("code", "min_quantity")) == {"group-11": 11, "group-21": 21}
    tuesday = next(day for day in TimeSlot.objects.dates("date", "day") if day.weekday() == 1)
    assert TimeSlot.objects.filter(date=tuesday).aggregate(seats=Sum("capacity")) == {"seats": 1275}
    assert not TimeSlot.objects.filter(date__week_day=2).exists()  # closed on Mondays
    # The ticket orders (the education demo sells enrollments too, donations gifts).
    orders = (
        Order.objects.filter(status="paid")
        .exclude(lines__kind__in=("enrollment", "donation"))
        .annotate(tickets_count=Count("tickets"))
    )
    assert sorted(orders.values_list("channel", "created_by__email", "total", "tickets_count")) == [
        ("counter", "tickets@parquemarino.test", Decimal("6500.00"), 3),
        ("online", "visitor@parquemarino.test", Decimal("7400.00"), 3),
        ("online", "visitor@parquemarino.test", Decimal("28800.00"), 12),
    ]
    payments = Payment.objects.exclude(order__lines__kind__in=("enrollment", "donation"))
    assert sorted(payments.values_list("method", "status")) == [
        ("cash", "succeeded"),
        ("sandbox", "partially_refunded"),
        ("sandbox", "succeeded"),
    ]
    # Finance refunded two of the group's twelve tickets: voided, their seats back on sale.
    refunds = Refund.objects.exclude(payment__order__lines__kind="donation")
    assert list(refunds.values_list("amount", "status", "scope", "lines__0__quantity")) == [
        (Decimal("4800.00"), "succeeded", "lines", 2)
    ]
    group = Order.objects.get(total=Decimal("28800.00"))
    assert group.tickets.filter(status="void").count() == 2
    first = counts()
    seed()
    assert counts() == first


def test_seed_demo_runs_the_education_department_and_stays_the_same_when_run_again():
    import datetime
    from decimal import Decimal

    from django.db.models import Count
    from django.utils import timezone

    from apps.business.education.models import (
        Enrollment,
        Instructor,
        Participant,
        Program,
        Session,
        SessionInstructor,
    )
    from apps.business.education.services.housekeeping import reminders_send
    from apps.business.payments.models import Order
    from apps.support.audit.models import AuditEvent

    def counts():
        return {
            model.__name__: model.objects.count()
            for model in (
                Program,
                Instructor,
                Session,
                SessionInstructor,
                Enrollment,
                Participant,
                Order,
                AuditEvent,
            )
        }

    seed()
    assert sorted(Program.objects.values_list("slug", "price", "currency", "is_public")) == [
        ("campamento-de-verano", Decimal("25000.00"), "CRC", True),
        ("cuidador-por-un-dia", Decimal("35000.00"), "CRC", True),
        ("taller-biologia-marina", Decimal("8000.00"), "CRC", True),
        ("tortugas-marinas", Decimal("0.00"), "CRC", True),
        ("visita-escolar", Decimal("2500.00"), "CRC", True),
    ]
    assert all(program.title_en and program.summary_en for program in Program.objects.all())
    assert sorted(Instructor.objects.values_list("user__email", "user__groups__name")) == [
        ("diego.arias@parquemarino.test", "educator"),
        ("marina.solano@parquemarino.test", "educator"),
    ]
    assert dict(
        Session.objects.values_list("program__slug").annotate(n=Count("id")).order_by()
    ) == {
        "tortugas-marinas": 5,
        "visita-escolar": 4,
        "taller-biologia-marina": 2,
        "campamento-de-verano": 2,
        "cuidador-por-un-dia": 2,
    }
    # Whatever day it runs: every session ahead, open for enrolment, one tomorrow.
    now = timezone.now()
    assert not Session.objects.filter(starts_at__lte=now).exists()
    assert not Session.objects.filter(enrollment_deadline__lte=now).exists()
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert Session.objects.filter(starts_at__date=tomorrow).count() == 1
    assert Session.objects.filter(section__isnull=True, habitat__isnull=True).count() == 0
    # The first Saturday's tour: full, a family waiting.
    full = Session.objects.get(capacity=8)
    assert (full.program.slug, full.confirmed) == ("tortugas-marinas", 8)
    assert list(full.enrollments.filter(status="waitlisted").values_list("email", "seats")) == [
        ("visitor@parquemarino.test", 3)
    ]
    # Paid enrollments are paid orders of enrollment lines; free ones have none.
    assert sorted(
        Enrollment.objects.filter(status="confirmed").values_list(
            "session__program__slug", "seats", "order__status", "order__total"
        )
    ) == [
        ("campamento-de-verano", 2, "paid", Decimal("50000.00")),
        ("cuidador-por-un-dia", 2, "paid", Decimal("70000.00")),
        ("taller-biologia-marina", 2, "paid", Decimal("16000.00")),
        ("tortugas-marinas", 2, None, None),
        ("tortugas-marinas", 4, None, None),
        ("tortugas-marinas", 4, None, None),
        ("visita-escolar", 26, "paid", Decimal("65000.00")),
    ]
    assert all(
        session.confirmed == sum(e.seats for e in session.enrollments.filter(status="confirmed"))
        for session in Session.objects.all()
    )
    first = counts()
    seed()
    assert counts() == first
    assert reminders_send() == 1  # tomorrow's tour: the demo visitor's family


@pytest.mark.parametrize("weekday", range(7))
def test_demo_sessions_fall_on_their_weekday_and_never_on_a_closed_day(weekday):
    import datetime

    from apps.business.education.demo import _dates

    tomorrow = datetime.date(2026, 12, 14) + datetime.timedelta(days=weekday)
    saturday = 5
    days = _dates(tomorrow, saturday, (0, 1, 2, 3), closed=set())
    assert [day.weekday() for day in days] == [saturday] * 4
    assert tomorrow < days[0] <= tomorrow + datetime.timedelta(days=7)
    assert [(days[n + 1] - days[n]).days for n in range(3)] == [7, 7, 7]
    # Two holidays a week apart: both sessions move after the last, to weeks of their own.
    closed = {days[1], days[2]}
    moved = _dates(tomorrow, saturday, (0, 1, 2, 3), closed=closed)
    assert moved == [
        days[0],
        days[3] + datetime.timedelta(days=7),
        days[3] + datetime.timedelta(days=14),
        days[3],
    ]


def test_seed_demo_raises_money_for_two_campaigns_and_stays_the_same_when_run_again():
    from decimal import Decimal

    from apps.business.donations.models import Campaign, Donation

    seed()
    seed()

    totals = {
        campaign.slug: (campaign.raised, campaign.donor_count, campaign.donation_count)
        for campaign in Campaign.objects.all()
    }
    assert totals == {
        "rescate-tortugas": (Decimal("17000.00"), 3, 3),
        "restauracion-arrecife": (Decimal("28000.00"), 2, 2),
    }
    assert sorted(Donation.objects.values_list("status", flat=True)) == [
        "paid",
        "paid",
        "paid",
        "paid",
        "paid",
        "refunded",
    ]
    assert all(campaign.is_open() for campaign in Campaign.objects.all())


def test_seed_demo_publishes_two_exhibitions_and_schedules_the_jellyfish_hall(
    api_client, settings, tmp_path
):
    from apps.business.exhibitions.models import Exhibition, ExhibitionImage

    settings.MEDIA_ROOT = str(tmp_path)
    seed()
    seed()

    listed = api_client.get("/api/v1/exhibitions/").json()["results"]
    assert [item["slug"] for item in listed] == [
        "arrecife-del-pacifico",
        "tortugas-rescate-y-liberacion",
    ]
    assert all(item["hero_image"]["renditions"]["card"]["width"] == 640 for item in listed)
    assert api_client.get("/api/v1/exhibitions/sala-de-medusas/").status_code == 404
    jellyfish = Exhibition.objects.get(slug="sala-de-medusas")
    scheduled = jellyfish.revisions.get(approved_go_live_at__isnull=False)
    # Scheduled for 09:00 on the first of next month, with a draft saved after it.
    opening = scheduled.approved_go_live_at.astimezone(timezone.get_current_timezone())
    assert (opening.day, opening.hour, opening.minute) == (1, 9, 0)
    assert opening.date() > timezone.localdate()
    assert jellyfish.latest_revision_id > scheduled.pk
    assert jellyfish.live is False
    assert (Exhibition.objects.count(), ExhibitionImage.objects.count()) == (3, 3)
