import io

import pytest
from django.core.management import CommandError, call_command

from apps.support.security.models import User

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", "--no-progress", "--allow-production", stdout=out, **options)
    return out.getvalue()


def test_seed_demo_creates_the_accounts_and_prints_them():
    output = seed()
    assert "admin@parquemarino.test" in output
    assert "visitor@parquemarino.test" in output
    admin = User.objects.get(email="admin@parquemarino.test")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert admin.check_password("parque-marino-demo")
    visitor = User.objects.get(email="visitor@parquemarino.test")
    assert (visitor.is_staff, visitor.is_superuser) == (False, False)


def test_seed_demo_is_idempotent():
    seed()
    first = sorted(User.objects.values_list("id", "email", "is_staff"))
    seed()
    assert sorted(User.objects.values_list("id", "email", "is_staff")) == first


def test_seed_demo_refuses_with_debug_off():
    with pytest.raises(CommandError, match="Refusing to load demo data"):
        call_command("seed_demo", "--no-progress", stdout=io.StringIO())
    assert User.objects.count() == 0
