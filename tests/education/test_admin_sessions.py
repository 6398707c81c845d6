"""Sessions in the back office: the seats left as the API counts them, and upcoming ones."""

import datetime

import pytest
from django.utils import timezone

from apps.business.education.models import Enrollment, Session
from apps.support.security.roles import Role
from tests.factories import SessionFactory
from tests.helpers import staff_member

pytestmark = pytest.mark.django_db

LIST = "/admin/education/session/"


def test_sessions_show_the_seats_left_and_filter_the_upcoming(client):
    educator = staff_member(Role.EDUCATOR)
    upcoming = SessionFactory(capacity=10, confirmed=3)
    Enrollment.objects.create(
        session=upcoming,
        email="familia@example.org",
        created_by=educator,
        status="offered",
        seats=2,
        offer_expires_at=timezone.now() + datetime.timedelta(minutes=20),
    )
    Enrollment.objects.create(  # an expired offer gives its seats back
        session=upcoming,
        email="tarde@example.org",
        created_by=educator,
        status="offered",
        seats=4,
        offer_expires_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    past = SessionFactory(capacity=8, confirmed=8)
    Session.objects.filter(pk=past.pk).update(
        starts_at=timezone.now() - datetime.timedelta(days=2),
        ends_at=timezone.now() - datetime.timedelta(days=2, hours=-1),
        enrollment_deadline=timezone.now() - datetime.timedelta(days=3),
    )
    client.force_login(educator)

    def rows(**query):
        response = client.get(LIST, query)
        assert response.status_code == 200
        admin = response.context["cl"].model_admin
        return [(row.pk, admin.seats_left(row)) for row in response.context["cl"].result_list]

    assert rows(when="upcoming") == [(upcoming.pk, 5)]
    assert rows(when="past") == [(past.pk, 0)]
    assert sorted(rows()) == sorted([(upcoming.pk, 5), (past.pk, 0)])
    assert rows(o="6") == [(past.pk, 0), (upcoming.pk, 5)]  # ordered by seats left
