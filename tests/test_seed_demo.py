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
