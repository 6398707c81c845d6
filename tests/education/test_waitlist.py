"""The waitlist: the first that fits is offered freed seats, an unanswered offer passes on by
time alone, more capacity goes to the queue first, and nobody jumps it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.education import services
from apps.business.education.models import Enrollment, Session
from apps.business.education.services.housekeeping import waitlists_settle
from apps.support.security.roles import Role
from tests.factories import ProgramFactory, SessionFactory, UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

ENROLLMENTS = "/api/v1/education/enrollments/"


def people(count: int) -> list[dict]:
    return [{"name": f"Persona {n}", "age": 10} for n in range(count)]


def enrol(session, count, *, waitlist=False, email=None):
    user = UserFactory(**({"email": email} if email else {}))
    enrollment = services.enrollment_create(
        actor=user, session=session, participants=people(count), waitlist=waitlist
    )
    return user, enrollment


def status(enrollment) -> str:
    enrollment.refresh_from_db()
    return enrollment.effective_status()


@pytest.fixture
def full_free_session():
    session = SessionFactory(program=ProgramFactory(price=Decimal("0.00")), capacity=5)
    _owner, first = enrol(session, 3)
    _owner2, second = enrol(session, 2)
    return session, first, second


def test_the_first_waitlisted_that_fits_is_offered_the_freed_seats(
    full_free_session, django_capture_on_commit_callbacks, mailoutbox
):
    session, first, second = full_free_session
    _family, family_of_four = enrol(session, 4, waitlist=True)
    _pair, pair = enrol(session, 2, waitlist=True, email="pareja@example.org")
    assert (family_of_four.status, pair.status) == ("waitlisted", "waitlisted")
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(actor=second.user, enrollment=second)  # 2 seats free
    assert (status(family_of_four), status(pair)) == ("waitlisted", "offered")
    assert [message.to for message in mailoutbox] == [["pareja@example.org"]]
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_cancel(actor=first.user, enrollment=first)  # 3 more: 3 free
    assert status(family_of_four) == "waitlisted"  # 3 free, a family of four does not fit
    assert Session.objects.get(pk=session.pk).confirmed == 0


def test_an_unanswered_offer_passes_to_the_next_by_time_alone(full_free_session):
    session, first, _second = full_free_session
    first_owner, first_in_line = enrol(session, 3, waitlist=True)
    second_owner, second_in_line = enrol(session, 3, waitlist=True)
    services.enrollment_cancel(actor=first.user, enrollment=first)
    assert (status(first_in_line), status(second_in_line)) == ("offered", "waitlisted")
    Enrollment.objects.filter(pk=first_in_line.pk).update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    # No job ran: the expired offer no longer counts, and the next in line, asking, gets it.
    seats = client_for(None).get(f"/api/v1/education/sessions/{session.pk}/").json()
    assert (seats["offered"], seats["waitlisted"]) == (0, 3)
    assert status(first_in_line) == "cancelled"
    accepted = client_for(second_owner).post(f"{ENROLLMENTS}{second_in_line.pk}/accept-offer/")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "confirmed"
    late = client_for(first_owner).post(f"{ENROLLMENTS}{first_in_line.pk}/accept-offer/")
    assert (late.status_code, late.json()["code"]) == (409, "offer_expired")
    assert Session.objects.get(pk=session.pk).confirmed == 5


def test_the_scheduler_passes_offers_on_and_emails_them(
    full_free_session, django_capture_on_commit_callbacks, mailoutbox
):
    session, first, _second = full_free_session
    _a, first_in_line = enrol(session, 3, waitlist=True)
    _b, second_in_line = enrol(session, 3, waitlist=True, email="siguiente@example.org")
    services.enrollment_cancel(actor=first.user, enrollment=first)
    Enrollment.objects.filter(pk=first_in_line.pk).update(
        offer_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = waitlists_settle()
    assert (run.offered, run.skipped) == (1, 0)
    assert (status(first_in_line), status(second_in_line)) == ("cancelled", "offered")
    assert Enrollment.objects.get(pk=first_in_line.pk).cancel_reason == "offer expired"
    assert [message.to for message in mailoutbox] == [["siguiente@example.org"]]
    with django_capture_on_commit_callbacks(execute=True):
        assert waitlists_settle().offered == 0  # nothing new: nobody emailed twice
    assert len(mailoutbox) == 1


def test_more_capacity_goes_to_the_queue_first(full_free_session):
    session, _first, _second = full_free_session
    _owner, waiting = enrol(session, 2, waitlist=True)
    services.session_update(actor=UserFactory(), session=session, data={"capacity": 7})
    assert status(waiting) == "offered"
    newcomer = client_for(UserFactory()).post(
        ENROLLMENTS, {"session": session.pk, "participants": people(1)}, format="json"
    )
    assert (newcomer.status_code, newcomer.json()["code"]) == (409, "session_full")


def test_nobody_jumps_the_queue_when_a_seat_frees(full_free_session):
    session, first, _second = full_free_session
    _owner, waiting = enrol(session, 3, waitlist=True)
    Enrollment.objects.filter(pk=first.pk).update(status="cancelled")  # seats freed quietly
    Session.objects.filter(pk=session.pk).update(confirmed=2)
    newcomer = client_for(UserFactory()).post(
        ENROLLMENTS, {"session": session.pk, "participants": people(1)}, format="json"
    )
    assert (newcomer.status_code, newcomer.json()["code"]) == (409, "session_full")
    assert status(waiting) == "offered"


def test_a_paid_offer_accepted_holds_the_seats_in_an_order(django_capture_on_commit_callbacks):
    session = SessionFactory(program=ProgramFactory(price=Decimal("2000.00")), capacity=2)
    buyer = UserFactory()
    order = services.enrollment_create(actor=buyer, session=session, participants=people(2)).order
    client_for(buyer).post(
        f"/api/v1/payments/orders/{order.pk}/pay/", {"gateway": "sandbox"}, format="json"
    )
    owner, waiting = enrol(session, 2, waitlist=True)
    assert waiting.order is None
    enrollment = Enrollment.objects.get(order=order)
    services.enrollment_cancel(actor=buyer, enrollment=enrollment)
    accepted = client_for(owner).post(f"{ENROLLMENTS}{waiting.pk}/accept-offer/")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["status"] == "pending_payment"
    paid = client_for(owner).post(
        f"/api/v1/payments/orders/{accepted.json()['order']}/pay/",
        {"gateway": "sandbox"},
        format="json",
    )
    assert (paid.status_code, paid.json()["total"]) == (200, "4000.00")
    assert status(waiting) == "confirmed"
    assert Session.objects.get(pk=session.pk).confirmed == 2
    assert (
        client_for(UserFactory()).post(f"{ENROLLMENTS}{waiting.pk}/accept-offer/").status_code
        == 404
    )


def test_only_the_visitor_accepts_their_offer(full_free_session):
    session, first, _second = full_free_session
    _owner, waiting = enrol(session, 3, waitlist=True)
    services.enrollment_cancel(actor=first.user, enrollment=first)
    educator = client_for(staff_member(Role.EDUCATOR))
    answer = educator.post(f"{ENROLLMENTS}{waiting.pk}/accept-offer/")
    assert answer.status_code == 403
    assert status(waiting) == "offered"
