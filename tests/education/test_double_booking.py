"""Never double-book: two educators schedule sessions at once, through the HTTP API, in one
habitat (or with one instructor) at overlapping times, on PostgreSQL.

With the real services exactly one is scheduled; the other is a 409 naming the session that
took the place or the instructor. ``checks_meet`` makes the racers meet after the clash check
(``_check_clashes``): without the section's (or the instructor's) row lock both would pass it at
once; with it the first goes on as soon as its rival is seen waiting for that lock.

The control removes the services' check altogether: the exclusion constraints of migration
0002 must still refuse the second booking — a 409, never a 500, and one session on record.
"""

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from apps.business.education.models import (
    Instructor,
    Session,
    SessionInstructor,
    SessionStatus,
)
from apps.business.education.services import sessions as session_services
from apps.support.security.roles import Role
from tests.factories import HabitatFactory, ProgramFactory, SessionFactory
from tests.helpers import staff_member
from tests.race import meet_after, post_retrying, race

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL's exclusion constraints: MySQL/MariaDB and SQLite have none",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SESSIONS = "/api/v1/education/sessions/"

# What each clash locks before checking, and the answer to the loser.
PLACE, INSTRUCTOR = "place", "instructor"
LOCKED_TABLE = {PLACE: "infrastructure_section", INSTRUCTOR: "education_instructor"}
CODE = {PLACE: "place_booked", INSTRUCTOR: "instructor_booked"}


def ten_o_clock(days: int = 10):
    moment = timezone.localtime() + timedelta(days=days)
    return moment.replace(hour=10, minute=0, second=0, microsecond=0)


def instructor() -> Instructor:
    return Instructor.objects.create(user=staff_member(Role.EDUCATOR))


def two_bookings(clash: str) -> list[dict]:
    """Two sessions 10:00-11:30 and 11:00-12:30 of one day: in one habitat with their own
    instructors, or in two habitats with one instructor."""
    program = ProgramFactory(duration_minutes=90)
    start = ten_o_clock()
    shared_habitat, shared_instructor = HabitatFactory(), instructor()
    bodies = []
    for offset in (timedelta(0), timedelta(hours=1)):
        habitat = shared_habitat if clash == PLACE else HabitatFactory()
        leader = shared_instructor if clash == INSTRUCTOR else instructor()
        bodies.append(
            {
                "program": program.pk,
                "starts_at": (start + offset).isoformat(),
                "habitat": habitat.pk,
                "instructors": [leader.pk],
            }
        )
    return bodies


def scheduling(body: dict):
    bearer = str(AccessToken.for_user(staff_member(Role.EDUCATOR)))

    def action(client):
        response = post_retrying(client, SESSIONS, body, bearer)
        return ("schedule", response.status_code, response.content.decode())

    return action


def race_two_educators(clash: str, arm_checks=None) -> list[tuple[int, dict]]:
    actions = [scheduling(body) for body in two_bookings(clash)]
    if arm_checks is not None:
        arm_checks()
    results = race(actions, processes=2)
    assert {kind for kind, _status, _body in results} == {"schedule"}, results
    return sorted((status, json.loads(body)) for _kind, status, body in results)


@pytest.fixture(params=[PLACE, INSTRUCTOR])
def clash(request):
    return request.param


@pytest.fixture
def checks_meet(monkeypatch, clash):
    """After checking for clashes, wait for the rival educator (see the module's docstring)."""
    return meet_after(monkeypatch, session_services, "_check_clashes", table=LOCKED_TABLE[clash])


def test_two_educators_at_once_one_schedules_the_other_is_told_which_session(clash, checks_meet):
    (created_status, created), (refused_status, refused) = race_two_educators(clash, checks_meet)
    assert (created_status, refused_status) == (201, 409), (created, refused)
    assert refused["code"] == CODE[clash]
    # The service's check found the session: it names it (the constraint could not).
    assert refused.get("details", {}).get("session") == created["id"], refused
    assert list(Session.objects.values_list("pk", flat=True)) == [created["id"]]


def test_control_without_the_services_check_the_database_still_refuses(clash, monkeypatch):
    monkeypatch.setattr(session_services, "_check_clashes", lambda **_: None)
    checks_meet = meet_after(
        monkeypatch, session_services, "_check_clashes", table=LOCKED_TABLE[clash]
    )
    (created_status, created), (refused_status, refused) = race_two_educators(clash, checks_meet)
    # The exclusion constraint refused the second insert: a 409, not a 500; no session of
    # the other's to name (the service never looked), but one session on record.
    assert (created_status, refused_status) == (201, 409), (created, refused)
    assert refused["code"] == CODE[clash]
    assert list(Session.objects.values_list("pk", flat=True)) == [created["id"]]
    assert SessionInstructor.objects.count() == 1


def assert_refused(write) -> None:
    """The database refuses ``write`` with an exclusion constraint."""
    with pytest.raises(IntegrityError, match="no_overlap"), transaction.atomic():
        write()


def test_the_exclusion_constraints_refuse_an_overlap_written_directly():
    start = ten_o_clock()
    booked = SessionFactory(starts_at=start, ends_at=start + timedelta(minutes=90))
    leader = instructor()
    SessionInstructor.objects.create(
        session=booked, instructor=leader, starts_at=booked.starts_at, ends_at=booked.ends_at
    )

    def session_at(minutes: int, length: int = 60, **place):
        place = place or {"habitat": booked.habitat}
        return lambda: SessionFactory(
            program=booked.program,
            starts_at=start + timedelta(minutes=minutes),
            ends_at=start + timedelta(minutes=minutes + length),
            **place,
        )

    # One habitat, overlapping times: refused, however the overlap falls.
    assert_refused(session_at(30))
    assert_refused(session_at(-30))
    assert_refused(session_at(15, 30))  # inside
    assert_refused(session_at(-30, 180))  # around
    # Back to back is no overlap ('[)' ranges); another habitat is free at the same time.
    session_at(90)()
    session_at(0, 90, habitat=HabitatFactory())()

    # A whole section booked twice at once.
    section_start = ten_o_clock(days=11)
    first = SessionFactory(
        habitat=None,
        section=booked.habitat.section,
        starts_at=section_start,
        ends_at=section_start + timedelta(hours=1),
    )
    assert_refused(
        lambda: SessionFactory(
            habitat=None,
            section=first.section,
            starts_at=section_start + timedelta(minutes=30),
            ends_at=section_start + timedelta(minutes=90),
        )
    )

    # One instructor in two places at once: refused; once the first booking is inactive
    # (its session cancelled), free.
    elsewhere = SessionFactory(program=booked.program, starts_at=start, ends_at=booked.ends_at)

    def lead_elsewhere():
        SessionInstructor.objects.create(
            session=elsewhere, instructor=leader, starts_at=start, ends_at=booked.ends_at
        )

    assert_refused(lead_elsewhere)
    SessionInstructor.objects.filter(session=booked).update(is_active=False)
    lead_elsewhere()

    # A cancelled session frees its habitat.
    Session.objects.filter(pk=booked.pk).update(status=SessionStatus.CANCELLED)
    session_at(30)()
