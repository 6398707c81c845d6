import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError

from apps.support.security.models import User

pytestmark = pytest.mark.django_db


def test_email_is_the_login_and_ignores_case(rf):
    User.objects.create_user("Vera.Visitor@Example.ORG", "a-long-enough-password")
    user = authenticate(
        rf.post("/admin/login/"),
        username="VERA.visitor@example.org",
        password="a-long-enough-password",
    )
    assert user is not None
    assert user.email == "vera.visitor@example.org"
    assert user.preferred_language == "es"


def test_emails_differing_only_in_case_cannot_coexist():
    User.objects.create_user("ana@example.org", "a-long-enough-password")
    with pytest.raises(IntegrityError):
        User.objects.bulk_create([User(email="ANA@example.org")])


def test_superuser_is_staff():
    admin = User.objects.create_superuser("root@example.org", "a-long-enough-password")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
