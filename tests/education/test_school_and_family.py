"""The issue's scenario, end to end through the API: a school books 25 students and 2
teachers in a 30-seat paid workshop, a family of 4 is waitlisted, the school cancels 5
students (refunded through the gateway), the family is offered the seats, accepts and pays,
and the educator marks attendance."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from apps.business.education.models import Enrollment, Session
from apps.business.payments.models import Refund
from apps.support.security.roles import Role
from tests.factories import ProgramFactory, SessionFactory, UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

ENROLLMENTS = "/api/v1/education/enrollments/"


def pay(client, order_id: int) -> dict:
    paid = client.post(
        f"/api/v1/payments/orders/{order_id}/pay/", {"gateway": "sandbox"}, format="json"
    )
    assert paid.status_code == 200, paid.json()
    assert paid.json()["status"] == "paid"
    return paid.json()


def seats(client, session: Session) -> tuple[int, int, int, int, int]:
    body = client.get(f"/api/v1/education/sessions/{session.pk}/").json()
    return (
        body["confirmed"],
        body["held"],
        body["offered"],
        body["seats_left"],
        body["waitlisted"],
    )


def test_school_family_waitlist_offer_and_attendance(django_capture_on_commit_callbacks):
    program = ProgramFactory(
        title_es="Biología marina", price=Decimal("4000.00"), max_participants=30, min_age=8
    )
    session = SessionFactory(program=program, capacity=30)
    teacher, parent = (
        UserFactory(email="maestra@escuela.example"),
        UserFactory(email="familia@example.org"),
    )
    school, family = client_for(teacher), client_for(parent)
    public = client_for(None)

    students = [{"name": f"Estudiante {n}", "age": 10, "role": "student"} for n in range(25)]
    teachers = [{"name": f"Docente {n}", "role": "teacher"} for n in range(2)]
    booked = school.post(
        ENROLLMENTS,
        {
            "session": session.pk,
            "participants": students + teachers,
            "school_name": "Escuela Puntarenas",
            "notes": "Dos estudiantes alérgicos al maní.",
        },
        format="json",
    )
    assert booked.status_code == 201, booked.json()
    school_enrollment = booked.json()
    assert (school_enrollment["status"], school_enrollment["seats"]) == ("pending_payment", 27)
    assert seats(public, session) == (0, 27, 0, 3, 0)
    with django_capture_on_commit_callbacks(execute=True):
        order = pay(school, school_enrollment["order"])
    assert order["total"] == "108000.00"  # 27 x 4000
    assert seats(public, session) == (27, 0, 0, 3, 0)

    family_members = [
        {"name": "Ana Mora", "age": 9},
        {"name": "Luis Mora", "age": 12},
        {"name": "Carmen Mora", "role": "guardian"},
        {"name": "Pedro Mora", "role": "guardian"},
    ]
    full = family.post(
        ENROLLMENTS, {"session": session.pk, "participants": family_members}, format="json"
    )
    assert full.status_code == 409
    assert full.json()["code"] == "session_full"
    assert Enrollment.objects.filter(user=parent).count() == 0
    waiting = family.post(
        ENROLLMENTS,
        {"session": session.pk, "participants": family_members, "waitlist": True},
        format="json",
    )
    assert waiting.status_code == 201, waiting.json()
    family_enrollment = waiting.json()
    assert (family_enrollment["status"], family_enrollment["order"]) == ("waitlisted", None)
    assert seats(public, session) == (27, 0, 0, 3, 4)

    # The school cancels five students: refunded through the gateway, seats offered.
    five = [p["id"] for p in school_enrollment["participants"][:5]]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = school.post(
            f"{ENROLLMENTS}{school_enrollment['id']}/cancel/",
            {"participants": five, "reason": "five students ill"},
            format="json",
        )
    assert cancelled.status_code == 200, cancelled.json()
    assert (cancelled.json()["status"], cancelled.json()["seats"]) == ("confirmed", 22)
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.scope) == (
        Decimal("20000.00"),
        "succeeded",
        "lines",
    )
    school_order = school.get(f"/api/v1/payments/orders/{school_enrollment['order']}/").json()
    assert [p["status"] for p in school_order["payments"]] == ["partially_refunded"]
    assert seats(public, session) == (22, 0, 4, 4, 0)
    offered = family.get(f"{ENROLLMENTS}{family_enrollment['id']}/").json()
    assert offered["status"] == "offered"
    assert sorted(m.to[0] for m in mail.outbox) == [
        "familia@example.org",  # the offer
        "maestra@escuela.example",  # the refund
    ]

    with django_capture_on_commit_callbacks(execute=True):
        accepted = family.post(f"{ENROLLMENTS}{family_enrollment['id']}/accept-offer/")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "pending_payment"
    assert seats(public, session) == (22, 4, 0, 4, 0)
    with django_capture_on_commit_callbacks(execute=True):
        order = pay(family, accepted.json()["order"])
    assert order["total"] == "16000.00"
    assert family.get(f"{ENROLLMENTS}{family_enrollment['id']}/").json()["status"] == "confirmed"
    assert seats(public, session) == (26, 0, 0, 4, 0)

    # The educator takes attendance on the day: all present but one student.
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(minutes=5),
        ends_at=timezone.now() + timedelta(minutes=85),
        enrollment_deadline=timezone.now() - timedelta(days=1),
    )
    educator = client_for(staff_member(Role.EDUCATOR))
    expected = educator.get(f"/api/v1/education/sessions/{session.pk}/participants/")
    assert expected.status_code == 200
    assert expected.json()["count"] == 26
    people = educator.get(
        f"/api/v1/education/sessions/{session.pk}/participants/", {"page_size": 100}
    ).json()["results"]
    assert len(people) == 26
    assert {p["school_name"] for p in people} == {"Escuela Puntarenas", ""}
    absent = people[0]["id"]
    marked = educator.post(
        f"/api/v1/education/sessions/{session.pk}/attendance/",
        {"participants": [{"id": p["id"], "present": p["id"] != absent} for p in people]},
        format="json",
    )
    assert marked.status_code == 200, marked.json()
    assert (marked.json()["status"], marked.json()["present"], marked.json()["absent"]) == (
        "done",
        25,
        1,
    )
    recorded = educator.get(
        f"/api/v1/education/sessions/{session.pk}/participants/", {"page_size": 100}
    ).json()["results"]
    assert [p["id"] for p in recorded if p["present"] is False] == [absent]
    assert sum(p["present"] is True for p in recorded) == 25
    assert {e.user.email: e.status for e in Enrollment.objects.filter(session=session)} == {
        "maestra@escuela.example": "attended",
        "familia@example.org": "attended",
    }
    assert Session.objects.get(pk=session.pk).status == "done"
    # A visitor cannot read the participant list.
    assert family.get(f"/api/v1/education/sessions/{session.pk}/participants/").status_code == 403
