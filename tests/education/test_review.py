"""An outside review of the education module (hostile input, IDOR, money).

Each test is a bug the review found, fixed since, or something that held up under it (refunds
of a partial cancellation exactly once, the session's ``confirmed`` equal to the live
participants).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.business.education import services
from apps.business.education.models import Enrollment, Participant, Session
from apps.business.payments.models import Order, Refund
from apps.support.security.roles import Role
from tests.factories import ProgramFactory, SessionFactory, UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

ENROLLMENTS = "/api/v1/education/enrollments/"
SESSIONS = "/api/v1/education/sessions/"
ORDERS = "/api/v1/payments/orders/"
KIDS = [{"name": "Ana Mora", "age": 9}, {"name": "Luis Mora", "age": 11}]


@pytest.fixture
def visitor():
    return UserFactory(email="familia@example.org")


@pytest.fixture
def family(visitor):
    return client_for(visitor)


@pytest.fixture
def educator_client():
    return client_for(staff_member(Role.EDUCATOR))


def enrol(client, session, participants=KIDS, **extra):
    return client.post(
        ENROLLMENTS, {"session": session.pk, "participants": participants, **extra}, format="json"
    )


def pay(client, order_id):
    return client.post(f"{ORDERS}{order_id}/pay/", {"gateway": "sandbox"}, format="json")


def live_participants(session: Session) -> int:
    return Participant.objects.filter(
        enrollment__session=session,
        enrollment__status__in=("confirmed", "attended", "no_show"),
        cancelled_at__isnull=True,
    ).count()


def assert_error_shape(answer, status, code):
    body = answer.json()
    assert answer.status_code == status, body
    assert body["code"] == code, body
    assert set(body) >= {"code", "message", "errors", "request_id"}


# --- 500s on hostile input -------------------------------------------------------------------


def test_the_calendar_to_the_last_representable_date_is_not_a_server_error(api_client):
    SessionFactory()
    answer = api_client.get(SESSIONS, {"to": "9999-12-31", "from": "0001-01-01"})
    assert (answer.status_code, answer.json()["count"]) == (200, 1)


def test_scheduling_at_the_end_of_time_is_a_clear_400(educator_client):
    session = SessionFactory()  # a habitat to book
    answer = educator_client.post(
        SESSIONS,
        {
            "program": session.program.pk,
            "starts_at": "9999-12-31T23:30:00Z",
            "habitat": session.habitat.pk,
        },
        format="json",
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "session_too_far")
    assert Session.objects.count() == 1


def test_moving_a_session_to_the_end_of_time_is_a_clear_400(educator_client):
    session = SessionFactory()
    answer = educator_client.patch(
        f"{SESSIONS}{session.pk}/", {"starts_at": "9999-12-31T23:30:00Z"}, format="json"
    )
    assert (answer.status_code, answer.json()["code"]) == (400, "session_too_far")
    assert Session.objects.get(pk=session.pk).starts_at == session.starts_at


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="SQLite cannot bind integers beyond 64 bits"
)
@pytest.mark.parametrize(
    ("path", "parameter"),
    [(SESSIONS, "program"), (ENROLLMENTS, "session"), ("/api/v1/education/programs/", "section")],
)
def test_a_huge_integer_filter_is_a_400_not_a_500(family, path, parameter):
    answer = family.get(path, {parameter: "99999999999999999999"})
    assert answer.status_code == 400, answer.content


# --- the contract ----------------------------------------------------------------------------


def test_cancelling_with_an_empty_participant_list_is_refused(family):
    """``[]`` is not "everyone": a client that lost its selection must not cancel it all."""
    session = SessionFactory(program=ProgramFactory(price=Decimal("0.00")))
    body = enrol(family, session).json()
    answer = family.post(f"{ENROLLMENTS}{body['id']}/cancel/", {"participants": []}, format="json")
    assert answer.status_code == 400, answer.json()
    assert Enrollment.objects.get(pk=body["id"]).status == "confirmed"


def test_a_birth_date_means_an_age_within_the_documented_range(family):
    session = SessionFactory(program=ProgramFactory(price=Decimal("0.00"), max_age=None))
    answer = enrol(
        family, session, participants=[{"name": "Matusalén", "birth_date": "0001-01-01"}]
    )
    assert answer.status_code == 400, answer.json()
    assert Enrollment.objects.count() == 0


@pytest.mark.parametrize("state", ["free", "cancelled", "closed"])
def test_someone_elses_enrollment_in_an_order_line_is_not_yours_whatever_its_state(family, state):
    price = Decimal("0.00") if state == "free" else Decimal("4000.00")
    session = SessionFactory(program=ProgramFactory(price=price))
    other = Enrollment.objects.create(
        session=session,
        user=UserFactory(),
        email="otra@example.org",
        status="offered",
        seats=1,
        offer_expires_at=timezone.now() + timedelta(hours=2),
        waitlisted_at=timezone.now(),
        created_by=UserFactory(),
    )
    if state == "cancelled":
        Session.objects.filter(pk=session.pk).update(status="cancelled")
    if state == "closed":
        Session.objects.filter(pk=session.pk).update(
            enrollment_deadline=timezone.now() - timedelta(minutes=1)
        )
    answer = family.post(
        ORDERS, {"lines": [{"kind": "enrollment", "enrollment": other.pk}]}, format="json"
    )
    assert_error_shape(answer, 404, "not_your_enrollment")
    assert Order.objects.count() == 0


@pytest.mark.parametrize("currency", ["usd", "€€€", "XXX"])
def test_a_program_refuses_a_currency_that_is_not_one(educator_client, currency):
    program = ProgramFactory()
    answer = educator_client.patch(
        f"/api/v1/education/programs/{program.pk}/", {"currency": currency}, format="json"
    )
    assert answer.status_code == 400, answer.json()
    program.refresh_from_db()
    assert program.currency == "CRC"


def test_session_full_is_answered_in_spanish(family):
    session = SessionFactory(program=ProgramFactory(price=Decimal("0.00")), capacity=2)
    three = [*KIDS, {"name": "Eva Mora", "age": 10}]  # two seats left: the plural form
    answer = family.post(
        ENROLLMENTS,
        {"session": session.pk, "participants": three},
        format="json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert_error_shape(answer, 409, "session_full")
    assert answer.json()["message"].startswith("Solo"), answer.json()["message"]


# --- money -----------------------------------------------------------------------------------


def test_a_cancellation_racing_a_payment_still_refunds_the_paid_participants(visitor):
    session = SessionFactory(program=ProgramFactory(price=Decimal("3000.00")), capacity=2)
    first = UserFactory()
    taken = services.enrollment_create(actor=first, session=session, participants=KIDS)
    waiting = services.enrollment_create(
        actor=visitor, session=session, participants=KIDS, waitlist=True
    )
    assert waiting.status == "waitlisted"
    services.enrollment_cancel(actor=first, enrollment=taken)  # unpaid: its order cancelled
    stale = Enrollment.objects.get(pk=waiting.pk)  # what the cancel request read: offered
    assert stale.status == "offered"
    # Meanwhile (another request) the family accepts the offer and pays.
    accepted = services.enrollment_accept_offer(
        actor=visitor, enrollment=Enrollment.objects.get(pk=waiting.pk)
    )
    assert pay(client_for(visitor), accepted.order_id).status_code == 200
    assert Enrollment.objects.get(pk=waiting.pk).status == "confirmed"
    services.enrollment_cancel(
        actor=staff_member(Role.EDUCATOR), enrollment=stale, reason="a pedido de la familia"
    )
    assert Enrollment.objects.get(pk=waiting.pk).status == "cancelled"
    refunds = Refund.objects.filter(payment__order_id=accepted.order_id)
    assert sum(r.amount for r in refunds) == Decimal("6000.00")


def test_partial_cancellations_refund_each_share_once_and_keep_confirmed_true(family):
    """Held up: each partial cancel refunds its share once; a cancelled enrollment cannot be
    cancelled again, nor its order, nor refunded twice; ``confirmed`` follows the live
    participants at every step."""
    session = SessionFactory(program=ProgramFactory(price=Decimal("4000.00")), capacity=10)
    body = enrol(family, session, participants=[*KIDS, {"name": "Prof.", "role": "teacher"}]).json()
    assert pay(family, body["order"]).status_code == 200
    session.refresh_from_db()
    assert session.confirmed == live_participants(session) == 3
    ids = [p["id"] for p in body["participants"]]

    first = family.post(f"{ENROLLMENTS}{body['id']}/cancel/", {"participants": [ids[0], ids[0]]})
    assert (first.status_code, first.json()["seats"]) == (200, 2), first.json()
    session.refresh_from_db()
    assert session.confirmed == live_participants(session) == 2
    again = family.post(f"{ENROLLMENTS}{body['id']}/cancel/", {"participants": [ids[0]]})
    assert_error_shape(again, 400, "unknown_participant")

    rest = family.post(f"{ENROLLMENTS}{body['id']}/cancel/", {"reason": "viaje"})
    assert rest.json()["status"] == "cancelled"
    session.refresh_from_db()
    assert session.confirmed == live_participants(session) == 0

    assert_error_shape(family.post(f"{ENROLLMENTS}{body['id']}/cancel/"), 409, "invalid_transition")
    family.post(f"{ORDERS}{body['order']}/cancel/")  # whatever it answers, no money twice
    amounts = sorted(
        Refund.objects.filter(payment__order_id=body["order"], status="succeeded").values_list(
            "amount", flat=True
        )
    )
    assert amounts == [Decimal("4000.00"), Decimal("8000.00")]
    session.refresh_from_db()
    assert session.confirmed == live_participants(session) == 0


def test_a_called_off_sessions_paid_enrollment_counts_no_seats(family, educator_client):
    session = SessionFactory(program=ProgramFactory(price=Decimal("3000.00")))
    body = enrol(family, session).json()
    assert pay(family, body["order"]).status_code == 200
    called_off = educator_client.post(
        f"{SESSIONS}{session.pk}/cancel/", {"reason": "Oleaje fuerte"}, format="json"
    )
    assert called_off.status_code == 200, called_off.json()
    shown = family.get(f"{ENROLLMENTS}{body['id']}/").json()
    assert shown["status"] == "cancelled"
    assert all(p["cancelled_at"] for p in shown["participants"])
    assert shown["seats"] == 0
