import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from apps.support.security.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _a_wednesday_morning(monkeypatch):
    """seed_demo books the demo visitor's family for today's next entry time, and after the
    last one (23:30 local) there is none: a test that read the wall clock would fail in that
    half hour. Every test here runs at one moment, unless it sets its own."""
    import datetime

    now = datetime.datetime(2026, 12, 16, 10, 10, tzinfo=timezone.get_current_timezone())
    monkeypatch.setattr(timezone, "now", lambda: now)


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
    # The regular hours; today the park opens all day long for the demo (see below).
    today = timezone.localdate()
    tuesday = next(
        day for day in TimeSlot.objects.dates("date", "day") if day.weekday() == 1 and day != today
    )
    assert TimeSlot.objects.filter(date=tuesday).aggregate(seats=Sum("capacity")) == {"seats": 1275}
    mondays = TimeSlot.objects.filter(date__week_day=2).exclude(date=today)
    assert not mondays.exists()  # closed on Mondays
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


# Whatever day and hour seed_demo runs, the story of a visitor and the gate can be walked:
# a Monday (the park's regular closing day), another weekday, the night of a holiday.
# Each moment with the family's entry time: the latest half hour the gate already admits
# (30 minutes of grace before a slot starts).
DEMO_MOMENTS = {
    "monday-morning": ((2026, 12, 14, 10, 10), "10:30"),
    "wednesday-afternoon": ((2026, 12, 16, 15, 40), "16:00"),
    "christmas-night": ((2026, 12, 25, 21, 50), "22:00"),
}


@pytest.mark.parametrize(("moment", "entry"), DEMO_MOMENTS.values(), ids=DEMO_MOMENTS.keys())
def test_the_visitor_and_gate_story_can_be_walked_whatever_day_the_demo_runs(
    moment, entry, monkeypatch, settings, tmp_path
):
    import datetime

    from apps.business.payments.models import Order
    from apps.business.tickets.models import CheckIn, OpeningSchedule, TicketType, TimeSlot
    from tests.helpers import client_for

    settings.MEDIA_ROOT = str(tmp_path)
    now = datetime.datetime(*moment, tzinfo=timezone.get_current_timezone())
    monkeypatch.setattr(timezone, "now", lambda: now)
    today = now.date()

    with translation.override("en"):  # what seed_demo prints, whatever the .po files say
        output = seed()
        counts = (Order.objects.count(), CheckIn.objects.count(), TimeSlot.objects.count())
        again = seed()  # the same day: nothing new
    assert (Order.objects.count(), CheckIn.objects.count(), TimeSlot.objects.count()) == counts

    # Today the park opens specially, all day; the regular hours stay Tuesday to Sunday.
    assert list(
        OpeningSchedule.objects.filter(valid_until=today).values_list(
            "name", "valid_from", "opens_at", "closes_at"
        )
    ) == [
        (
            "Apertura especial de demostración",
            today,
            datetime.time(0, 0),
            datetime.time(23, 30),
        )
    ]
    assert TimeSlot.objects.filter(date=today).count() == 47

    # The demo visitor's family (2 adults, 1 child) comes today at the next entry time; one
    # parent is already through the gate.
    visitor = client_for(User.objects.get(email="visitor@parquemarino.test"))
    gate = client_for(User.objects.get(email="gate@parquemarino.test"))
    family = visitor.get(f"/api/v1/tickets/tickets/?date={today}").json()["results"]
    assert [ticket["ticket_type_name"] for ticket in family] == [
        "Adulto nacional",
        "Adulto nacional",
        "Niño o niña (4 a 11 años)",
    ]
    starts_at = datetime.datetime.fromisoformat(family[0]["starts_at"])
    assert f"{timezone.localtime(starts_at):%H:%M}" == entry
    order = Order.objects.get(pk=family[0]["order"])
    assert (order.status, order.total) == ("paid", 7400)
    assert [ticket["checked_in_at"] is not None for ticket in family] == [True, False, False]
    note = (
        f"Today's visit of visitor@parquemarino.test: order {order.pk} ({order.code}), "
        f"entry at {timezone.localtime(starts_at):%H:%M}, tickets "
        f"{', '.join(str(ticket['id']) for ticket in family)}; checked in: {family[0]['id']}."
    )
    assert note in output
    assert note in again

    # The gate admits the other parent, and refuses the one already in.
    response = gate.post(
        "/api/v1/tickets/check-ins/", {"code": family[1]["code"], "gate": "Norte"}, format="json"
    )
    assert response.status_code == 201, response.json()
    response = gate.post(
        "/api/v1/tickets/check-ins/", {"code": family[0]["code"], "gate": "Norte"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "already_checked_in")
    assert response.json()["details"]["gate"] == "Entrada principal"

    # A slot of today still on sale: buy, pay with the sandbox, get the QR, walk in.
    slots = visitor.get(f"/api/v1/tickets/slots/?date={today}&page_size=100").json()["results"]
    bookable = [slot for slot in slots if slot["bookable"]]
    assert bookable
    assert bookable[0]["remaining"] > 0
    assert datetime.datetime.fromisoformat(bookable[0]["starts_at"]) <= now
    adult = TicketType.objects.get(code="adult").pk
    created = visitor.post(
        "/api/v1/payments/orders/",
        {"lines": [{"slot": bookable[0]["id"], "ticket_type": adult, "quantity": 2}]},
        format="json",
    )
    assert (created.status_code, created.json()["total"]) == (201, "5800.00")
    paid = visitor.post(
        f"/api/v1/payments/orders/{created.json()['id']}/pay/",
        {"gateway": "sandbox"},
        format="json",
    )
    assert (paid.status_code, paid.json()["status"]) == (200, "paid")
    tickets = visitor.get(f"/api/v1/tickets/tickets/?order={created.json()['id']}").json()
    assert tickets["count"] == 2
    qr = visitor.get(f"/api/v1/tickets/tickets/{tickets['results'][0]['id']}/qr/")
    assert (qr.status_code, qr["Content-Type"]) == (200, "image/png")
    response = gate.post(
        "/api/v1/tickets/check-ins/",
        {"code": tickets["results"][0]["code"], "gate": "Norte"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert CheckIn.objects.filter(ticket__slot__date=today).count() == 3


def test_seed_demo_run_again_on_later_days_opens_each_of_them_too(monkeypatch, settings, tmp_path):
    """Seeded the Monday before Christmas, run again the next day (when the group of the first
    run comes) and on Christmas day: each day the family comes, one parent let in; the holiday
    the demo closed gives way to the special opening."""
    import datetime

    from apps.business.tickets.models import Closure, OpeningSchedule, Ticket, TimeSlot

    settings.MEDIA_ROOT = str(tmp_path)
    zone = timezone.get_current_timezone()
    monday, tuesday, christmas = (datetime.date(2026, 12, day) for day in (21, 22, 25))
    now = datetime.datetime(2026, 12, 21, 10, 10, tzinfo=zone)
    monkeypatch.setattr(timezone, "now", lambda: now)
    seed()
    assert Closure.objects.filter(date=christmas).exists()
    assert not TimeSlot.objects.filter(date=christmas).exists()
    visitor_tickets = Ticket.objects.filter(order__user__email="visitor@parquemarino.test")
    assert visitor_tickets.filter(slot__date=tuesday).count() == 12  # the group

    now = datetime.datetime(2026, 12, 22, 9, 20, tzinfo=zone)
    seed()
    now = datetime.datetime(2026, 12, 25, 11, 5, tzinfo=zone)
    seed()
    assert not Closure.objects.filter(date=christmas).exists()
    assert TimeSlot.objects.filter(date=christmas, is_closed=False).count() == 47
    demo_opening = OpeningSchedule.objects.get(name="Apertura especial de demostración")
    assert (demo_opening.valid_from, demo_opening.valid_until) == (christmas, christmas)
    # Slots of the earlier days stay: the Monday all day, the Tuesday's regular hours, filled in.
    assert [TimeSlot.objects.filter(date=day).count() for day in (monday, tuesday)] == [47, 47]
    families = visitor_tickets.exclude(ticket_type__code="group-11")
    assert [
        (
            families.filter(slot__date=day).count(),
            families.filter(slot__date=day, check_in__gate="Entrada principal").count(),
        )
        for day in (monday, tuesday, christmas)
    ] == [(3, 1), (3, 1), (3, 1)]


def test_seed_demo_files_documents_in_folders_by_role_and_stays_the_same_when_run_again(
    settings, tmp_path
):
    from apps.business.documents.models import Document, DocumentVersion, Folder
    from tests.helpers import client_for

    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": None},
        },
    }
    seed()
    state = (
        sorted(Folder.objects.values_list("name", "parent__name", "is_public")),
        sorted(DocumentVersion.objects.values_list("document__title", "number", "sha256")),
        sorted(path.name for path in tmp_path.rglob("*") if path.is_file()),
    )
    assert [name for name, _parent, _public in state[0]] == [
        "CITES",
        "Calidad del agua",
        "Contratos",
        "Material educativo",
        "Permisos",
        "Procedimientos de seguridad",
        "Público",
        "Veterinaria",
    ]
    permit = Document.objects.get(title__startswith="Permiso CITES")
    assert permit.version_count == 2
    assert list(permit.animals.values_list("institutional_id", flat=True)) == ["PMP-2019-0003"]
    assert list(permit.tags.values_list("name", flat=True)) == ["2026", "cites", "exportación"]
    assert len(state[1]) == 6
    curator = User.objects.get(email="curator@parquemarino.test")
    visitor = User.objects.get(email="visitor@parquemarino.test")
    titles = {
        user.email: sorted(
            row["title"]
            for row in client_for(user).get("/api/v1/documents/documents/").json()["results"]
        )
        for user in (curator, visitor)
    }
    assert titles[visitor.email] == ["Reglamento para visitantes"]
    assert len(titles[curator.email]) == 5

    seed()
    assert state == (
        sorted(Folder.objects.values_list("name", "parent__name", "is_public")),
        sorted(DocumentVersion.objects.values_list("document__title", "number", "sha256")),
        sorted(path.name for path in tmp_path.rglob("*") if path.is_file()),
    )
