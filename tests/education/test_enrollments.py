"""Enrolling: the age rule, free and paid sessions, holds that end by time, the declared
transitions, cancellation (whole or in part) with refunds, and who sees what."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.education.models import Enrollment, Participant, Session
from apps.business.payments.models import Order, OrderLine, Refund
from apps.support.security.roles import Role
from tests.factories import (
    ProgramFactory,
    SessionFactory,
    TicketTypeFactory,
    TimeSlotFactory,
    UserFactory,
)
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

ENROLLMENTS = "/api/v1/education/enrollments/"
KIDS = [{"name": "Ana Mora", "age": 9}, {"name": "Luis Mora", "age": 11}]


@pytest.fixture
def visitor():
    return UserFactory(email="familia@example.org")


@pytest.fixture
def family(visitor):
    return client_for(visitor)


def enrol(client, session, participants=KIDS, **extra):
    return client.post(
        ENROLLMENTS, {"session": session.pk, "participants": participants, **extra}, format="json"
    )


def pay(client, order_id):
    return client.post(
        f"/api/v1/payments/orders/{order_id}/pay/", {"gateway": "sandbox"}, format="json"
    )


def free_session(**fields):
    return SessionFactory(program=ProgramFactory(price=Decimal("0.00")), **fields)


def test_a_free_session_confirms_at_once_and_emails_the_guardian(
    family, django_capture_on_commit_callbacks, mailoutbox
):
    session = free_session(capacity=10)
    with django_capture_on_commit_callbacks(execute=True):
        answer = enrol(family, session, notes="Ana es alérgica al maní.")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["status"], body["seats"], body["order"]) == ("confirmed", 2, None)
    assert [(p["name"], p["age"], p["role"]) for p in body["participants"]] == [
        ("Ana Mora", 9, "participant"),
        ("Luis Mora", 11, "participant"),
    ]
    assert Session.objects.get(pk=session.pk).confirmed == 2
    assert [message.to for message in mailoutbox] == [["familia@example.org"]]


@pytest.mark.parametrize(
    ("participant", "code", "field"),
    [
        ({"name": "Bebé", "age": 3}, "age_not_admitted", "participants.0.age"),
        ({"name": "Sin edad"}, "age_required", "participants.0.age"),
        (
            {"name": "Fechas", "age": 9, "birth_date": "2000-01-01"},
            "age_not_admitted",
            "participants.0.age",
        ),
    ],
)
def test_the_programs_age_rule_is_checked(family, participant, code, field):
    session = free_session()  # ages 6 to 14
    answer = enrol(family, session, participants=[participant])
    assert answer.status_code == 400
    assert (answer.json()["code"], answer.json()["errors"][0]["field"]) == (code, field)
    assert Enrollment.objects.count() == 0


def test_teachers_and_guardians_accompany_without_an_age(family):
    session = free_session()
    answer = enrol(
        family,
        session,
        participants=[
            {"name": "Niña", "birth_date": "2017-03-01"},
            {"name": "Mamá", "role": "guardian"},
        ],
    )
    assert answer.status_code == 201, answer.json()
    assert Participant.objects.get(name="Niña").age == timezone.localdate(
        session.starts_at
    ).year - 2017 - (
        (timezone.localtime(session.starts_at).month, timezone.localtime(session.starts_at).day)
        < (3, 1)
    )


def test_too_many_participants_for_one_enrollment(family, settings):
    settings.EDUCATION_MAX_PARTICIPANTS = 3
    answer = enrol(
        family, free_session(), participants=[{"name": f"N{n}", "age": 8} for n in range(4)]
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "too_many_participants")


def test_enrolment_closes_at_the_deadline_and_with_a_cancelled_session(family):
    closed = free_session()
    Session.objects.filter(pk=closed.pk).update(enrollment_deadline=timezone.now())
    cancelled = free_session(status="cancelled")
    assert enrol(family, closed).json()["code"] == "enrollment_closed"
    assert enrol(family, cancelled).json()["code"] == "session_cancelled"
    assert Enrollment.objects.count() == 0


def test_a_session_of_a_hidden_program_is_not_found_by_visitors(family):
    hidden = SessionFactory(program=ProgramFactory(is_public=False))
    answer = enrol(family, hidden)
    assert (answer.status_code, answer.json()["code"], answer.json()["errors"][0]["field"]) == (
        400,
        "session_not_found",
        "session",
    )


def test_a_paid_session_holds_seats_in_an_order_without_the_childrens_names(family):
    session = SessionFactory(program=ProgramFactory(price=Decimal("3500.00")), capacity=5)
    answer = enrol(family, session)
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "pending_payment"
    order = Order.objects.get(pk=body["order"])
    assert (order.total, order.status) == (Decimal("7000.00"), "pending")
    line = OrderLine.objects.get(order=order)
    assert (line.kind, line.quantity, line.reference) == (
        "enrollment",
        2,
        {"session": session.pk, "enrollment": body["id"]},
    )
    seats = client_for(None).get(f"/api/v1/education/sessions/{session.pk}/").json()
    assert (seats["confirmed"], seats["held"], seats["seats_left"]) == (0, 2, 3)
    paid = pay(family, order.pk)
    assert paid.status_code == 200, paid.json()
    assert family.get(f"{ENROLLMENTS}{body['id']}/").json()["status"] == "confirmed"
    assert Session.objects.get(pk=session.pk).confirmed == 2


def test_an_unpaid_hold_ends_by_time_alone(family):
    session = SessionFactory(program=ProgramFactory(price=Decimal("3500.00")), capacity=2)
    body = enrol(family, session).json()
    Order.objects.filter(pk=body["order"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    Enrollment.objects.filter(pk=body["id"]).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    seats = client_for(None).get(f"/api/v1/education/sessions/{session.pk}/").json()
    assert (seats["held"], seats["seats_left"], seats["available"]) == (0, 2, True)
    assert family.get(f"{ENROLLMENTS}{body['id']}/").json()["status"] == "cancelled"
    # Someone else takes the seats; the late payer is refunded, never overbooked.
    other = client_for(UserFactory())
    taken = enrol(other, session)
    assert taken.status_code == 201, taken.json()
    assert pay(other, taken.json()["order"]).status_code == 200
    late = pay(family, body["order"])
    assert late.status_code == 409
    assert Session.objects.get(pk=session.pk).confirmed == 2


def test_enrollments_sit_beside_tickets_in_one_order(family):
    session = SessionFactory(program=ProgramFactory(price=Decimal("4000.00")))
    slot, adult = TimeSlotFactory(capacity=50), TicketTypeFactory(price=Decimal("2900.00"))
    created = family.post(
        "/api/v1/payments/orders/",
        {
            "lines": [
                {"slot": slot.pk, "ticket_type": adult.pk, "quantity": 2},
                {"kind": "enrollment", "session": session.pk, "participants": KIDS},
            ]
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["total"] == "13800.00"
    assert pay(family, created.json()["id"]).status_code == 200
    enrollment = Enrollment.objects.get(order_id=created.json()["id"])
    assert (enrollment.status, enrollment.seats) == ("confirmed", 2)
    assert Order.objects.get(pk=created.json()["id"]).tickets.count() == 2


def test_free_sessions_are_not_sold_in_orders(family):
    session = free_session()
    created = family.post(
        "/api/v1/payments/orders/",
        {"lines": [{"kind": "enrollment", "session": session.pk, "participants": KIDS}]},
        format="json",
    )
    assert (created.status_code, created.json()["code"]) == (400, "session_is_free")
    assert Order.objects.count() == 0


def test_nobody_takes_someone_elses_offer_through_an_order(family, visitor):
    session = SessionFactory(program=ProgramFactory(price=Decimal("4000.00")))
    offered = Enrollment.objects.create(
        session=session,
        user=UserFactory(),
        email="otra@example.org",
        status="offered",
        seats=1,
        offer_expires_at=timezone.now() + timedelta(hours=2),
        created_by=visitor,
    )
    created = family.post(
        "/api/v1/payments/orders/",
        {"lines": [{"kind": "enrollment", "enrollment": offered.pk}]},
        format="json",
    )
    assert created.status_code == 404
    assert Order.objects.count() == 0
    assert Enrollment.objects.get(pk=offered.pk).status == "offered"


def test_a_transition_outside_the_table_is_a_conflict_listing_the_allowed_ones(family):
    session = free_session()
    body = enrol(family, session).json()
    Enrollment.objects.filter(pk=body["id"]).update(status="attended")
    answer = family.post(f"{ENROLLMENTS}{body['id']}/cancel/")
    assert answer.status_code == 409
    assert answer.json()["code"] == "invalid_transition"
    assert answer.json()["details"] == {
        "status": "attended",
        "requested": "cancelled",
        "allowed": ["no_show"],
    }
    offer = family.post(f"{ENROLLMENTS}{body['id']}/accept-offer/")
    assert (offer.status_code, offer.json()["code"]) == (409, "invalid_transition")
    assert Enrollment.objects.get(pk=body["id"]).status == "attended"


def test_cancelling_a_paid_enrollment_refunds_it_and_frees_the_seats(family):
    session = SessionFactory(program=ProgramFactory(price=Decimal("3000.00")), capacity=4)
    body = enrol(family, session).json()
    assert pay(family, body["order"]).status_code == 200
    cancelled = family.post(f"{ENROLLMENTS}{body['id']}/cancel/", {"reason": "viaje"})
    assert cancelled.status_code == 200, cancelled.json()
    assert (cancelled.json()["status"], cancelled.json()["seats"]) == ("cancelled", 0)
    refund = Refund.objects.get()
    assert (refund.amount, refund.status, refund.scope, refund.lines) == (
        Decimal("6000.00"),
        "succeeded",
        "lines",
        [{"line": OrderLine.objects.get().pk, "quantity": 2}],
    )
    assert Session.objects.get(pk=session.pk).confirmed == 0
    assert list(Participant.objects.values_list("refund_settled", flat=True)) == [True, True]


def test_visitors_cancel_paid_seats_only_until_the_deadline_educators_later(family, settings):
    settings.EDUCATION_CANCELLATION_HOURS = 48
    session = SessionFactory(program=ProgramFactory(price=Decimal("3000.00")))
    body = enrol(family, session).json()
    assert pay(family, body["order"]).status_code == 200
    Session.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() + timedelta(hours=30),
        ends_at=timezone.now() + timedelta(hours=32),
        enrollment_deadline=timezone.now() + timedelta(hours=1),
    )
    late = family.post(f"{ENROLLMENTS}{body['id']}/cancel/")
    assert (late.status_code, late.json()["code"]) == (409, "cancellation_deadline_passed")
    assert Refund.objects.count() == 0
    educator = client_for(staff_member(Role.EDUCATOR))
    assert educator.post(f"{ENROLLMENTS}{body['id']}/cancel/").status_code == 200
    assert Refund.objects.get().status == "succeeded"


def test_cancelling_an_unpaid_enrollment_cancels_its_order(family):
    session = SessionFactory(program=ProgramFactory(price=Decimal("3000.00")))
    body = enrol(family, session).json()
    partial = family.post(
        f"{ENROLLMENTS}{body['id']}/cancel/",
        {"participants": [body["participants"][0]["id"]]},
        format="json",
    )
    assert (partial.status_code, partial.json()["code"]) == (409, "partial_cancel_unpaid")
    whole = family.post(f"{ENROLLMENTS}{body['id']}/cancel/")
    assert whole.json()["status"] == "cancelled"
    assert Order.objects.get().status == "canceled"


def test_cancelling_unknown_participants_changes_nothing(family):
    session = free_session()
    body = enrol(family, session).json()
    answer = family.post(
        f"{ENROLLMENTS}{body['id']}/cancel/", {"participants": [999999]}, format="json"
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "unknown_participant")
    assert Session.objects.get(pk=session.pk).confirmed == 2
    assert Participant.objects.filter(cancelled_at__isnull=False).count() == 0


def test_who_sees_which_enrollments(family):
    session = free_session()
    body = enrol(family, session, participants=[{"name": "Ana", "age": 9, "needs": "Asma"}]).json()
    stranger = client_for(UserFactory())
    assert stranger.get(f"{ENROLLMENTS}{body['id']}/").status_code == 404
    assert stranger.post(f"{ENROLLMENTS}{body['id']}/cancel/").status_code == 404
    assert stranger.get(ENROLLMENTS).json()["count"] == 0
    assert client_for(None).get(ENROLLMENTS).status_code == 401
    finance = client_for(staff_member(Role.FINANCE)).get(f"{ENROLLMENTS}{body['id']}/")
    assert finance.json()["participants"][0]["needs"] == ""
    assert (
        client_for(staff_member(Role.FINANCE))
        .post(f"{ENROLLMENTS}{body['id']}/cancel/")
        .status_code
        == 403
    )
    educator = client_for(staff_member(Role.EDUCATOR)).get(f"{ENROLLMENTS}{body['id']}/")
    assert educator.json()["participants"][0]["needs"] == "Asma"
    assert family.get(f"{ENROLLMENTS}{body['id']}/").json()["participants"][0]["needs"] == "Asma"
    assert Enrollment.objects.get().status == "confirmed"
