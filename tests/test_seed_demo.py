import io

import pytest
from django.core.management import CommandError, call_command

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
    orders = Order.objects.filter(status="paid").annotate(tickets_count=Count("tickets"))
    assert sorted(orders.values_list("channel", "created_by__email", "total", "tickets_count")) == [
        ("counter", "tickets@parquemarino.test", Decimal("6500.00"), 3),
        ("online", "visitor@parquemarino.test", Decimal("7400.00"), 3),
        ("online", "visitor@parquemarino.test", Decimal("28800.00"), 12),
    ]
    assert sorted(Payment.objects.values_list("method", "status")) == [
        ("cash", "succeeded"),
        ("sandbox", "partially_refunded"),
        ("sandbox", "succeeded"),
    ]
    # Finance refunded two of the group's twelve tickets: voided, their seats back on sale.
    assert list(Refund.objects.values_list("amount", "status", "scope", "lines__0__quantity")) == [
        (Decimal("4800.00"), "succeeded", "lines", 2)
    ]
    group = Order.objects.get(total=Decimal("28800.00"))
    assert group.tickets.filter(status="void").count() == 2
    first = counts()
    seed()
    assert counts() == first
