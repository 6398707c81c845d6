"""Scheduling sessions: defaults from the program, no place or instructor booked twice, the
public calendar, changes and the capacity rule."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.business.education.models import Instructor, Session, SessionInstructor
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import (
    HabitatFactory,
    ProgramFactory,
    SectionFactory,
    SessionFactory,
    UserFactory,
)
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/education/sessions/"


def local(days: int, hour: int):
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(timezone.datetime(day.year, day.month, day.day, hour, 0))


def instructor_for(email: str) -> Instructor:
    return Instructor.objects.create(user=staff_member(Role.EDUCATOR, email=email))


def test_an_educator_schedules_a_session_with_the_programs_defaults(educator_client):
    program = ProgramFactory(duration_minutes=120, max_participants=25)
    habitat = HabitatFactory()
    guide = instructor_for("guia@parquemarino.test")
    starts = local(10, 9)
    created = educator_client.post(
        SESSIONS,
        {
            "program": program.pk,
            "starts_at": starts.isoformat(),
            "habitat": habitat.pk,
            "instructors": [guide.pk],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert timezone.datetime.fromisoformat(body["ends_at"]) == starts + timedelta(hours=2)
    assert timezone.datetime.fromisoformat(body["enrollment_deadline"]) == starts - timedelta(
        hours=24
    )
    assert (body["capacity"], body["seats_left"], body["status"], body["available"]) == (
        25,
        25,
        "scheduled",
        True,
    )
    assert body["instructors"] == [{"id": guide.pk, "name": "Ada Lovelace"}]
    booking = SessionInstructor.objects.get()
    assert (booking.starts_at, booking.ends_at) == (starts, starts + timedelta(hours=2))
    assert AuditEvent.objects.filter(
        action="education.session.created", target_id=str(body["id"])
    ).exists()


@pytest.mark.parametrize("role", [None, Role.CONTENT_EDITOR, Role.FINANCE])
def test_only_educators_schedule(role):
    program, habitat = ProgramFactory(), HabitatFactory()
    user = staff_member(role) if role else UserFactory()
    answer = client_for(user).post(
        SESSIONS,
        {"program": program.pk, "starts_at": local(3, 10).isoformat(), "habitat": habitat.pk},
        format="json",
    )
    assert answer.status_code == 403
    assert Session.objects.count() == 0


def test_a_place_booked_at_overlapping_times_is_a_conflict_naming_the_other_session(
    educator_client,
):
    first = SessionFactory(starts_at=local(5, 9), ends_at=local(5, 11))
    answer = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": local(5, 10).isoformat(),
            "habitat": first.habitat_id,
        },
        format="json",
    )
    assert answer.status_code == 409
    body = answer.json()
    assert body["code"] == "place_booked"
    assert body["details"]["session"] == first.pk
    assert Session.objects.count() == 1
    # Back to back is fine: [09:00, 11:00) and [11:00, 12:30) do not overlap.
    after = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": local(5, 11).isoformat(),
            "habitat": first.habitat_id,
        },
        format="json",
    )
    assert after.status_code == 201, after.json()


def test_an_instructor_cannot_lead_two_sessions_at_once(educator_client):
    guide = instructor_for("guia@parquemarino.test")
    first = SessionFactory(starts_at=local(6, 9), ends_at=local(6, 11))
    SessionInstructor.objects.create(
        session=first, instructor=guide, starts_at=first.starts_at, ends_at=first.ends_at
    )
    answer = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": local(6, 10).isoformat(),
            "habitat": HabitatFactory().pk,
            "instructors": [guide.pk],
        },
        format="json",
    )
    assert answer.status_code == 409
    assert (answer.json()["code"], answer.json()["details"]["session"]) == (
        "instructor_booked",
        first.pk,
    )
    assert Session.objects.count() == 1


def test_a_cancelled_session_frees_its_place_and_instructors(educator_client):
    guide = instructor_for("guia@parquemarino.test")
    first = SessionFactory(starts_at=local(6, 9), ends_at=local(6, 11))
    SessionInstructor.objects.create(
        session=first, instructor=guide, starts_at=first.starts_at, ends_at=first.ends_at
    )
    cancelled = educator_client.post(f"{SESSIONS}{first.pk}/cancel/", {"reason": "lluvia"})
    assert cancelled.status_code == 200, cancelled.json()
    again = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": local(6, 9).isoformat(),
            "habitat": first.habitat_id,
            "instructors": [guide.pk],
        },
        format="json",
    )
    assert again.status_code == 201, again.json()


def test_a_place_is_a_habitat_or_a_whole_section(educator_client):
    habitat, elsewhere = HabitatFactory(), SectionFactory()
    mismatch = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": local(4, 9).isoformat(),
            "habitat": habitat.pk,
            "section": elsewhere.pk,
        },
        format="json",
    )
    neither = educator_client.post(
        SESSIONS,
        {"program": ProgramFactory().pk, "starts_at": local(4, 9).isoformat()},
        format="json",
    )
    assert (mismatch.status_code, neither.status_code) == (400, 400)
    assert Session.objects.count() == 0
    both = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": local(4, 9).isoformat(),
            "habitat": habitat.pk,
            "section": habitat.section_id,
        },
        format="json",
    )
    assert both.status_code == 201, both.json()
    assert (both.json()["section"], both.json()["habitat"]) == (habitat.section_id, habitat.pk)


def test_a_whole_section_clashes_with_its_habitats_and_they_with_it(educator_client):
    tank = HabitatFactory()
    other_tank = HabitatFactory(section=tank.section)
    whole = SessionFactory(habitat=None, section=tank.section, starts_at=local(5, 9))
    in_tank = educator_client.post(
        SESSIONS,
        {"program": ProgramFactory().pk, "starts_at": local(5, 10).isoformat(), "habitat": tank.pk},
        format="json",
    )
    assert (in_tank.status_code, in_tank.json()["details"]["session"]) == (409, whole.pk)
    Session.objects.filter(pk=whole.pk).update(status="cancelled")
    first = educator_client.post(
        SESSIONS,
        {"program": ProgramFactory().pk, "starts_at": local(5, 10).isoformat(), "habitat": tank.pk},
        format="json",
    )
    beside = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": local(5, 10).isoformat(),
            "habitat": other_tank.pk,
        },
        format="json",
    )
    assert (first.status_code, beside.status_code) == (201, 201)  # two habitats: no clash
    section_wide = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": local(5, 11).isoformat(),
            "section": tank.section_id,
        },
        format="json",
    )
    assert (section_wide.status_code, section_wide.json()["code"]) == (409, "place_booked")
    assert Session.objects.exclude(status="cancelled").count() == 2


def test_an_instructor_who_left_keeps_the_sessions_already_led(educator_client):
    guide = instructor_for("guia@parquemarino.test")
    session = SessionFactory()
    SessionInstructor.objects.create(
        session=session, instructor=guide, starts_at=session.starts_at, ends_at=session.ends_at
    )
    Instructor.objects.filter(pk=guide.pk).update(is_active=False)
    resized = educator_client.patch(f"{SESSIONS}{session.pk}/", {"capacity": 12}, format="json")
    assert (resized.status_code, resized.json()["capacity"]) == (200, 12)
    other = SessionFactory()
    refused = educator_client.patch(
        f"{SESSIONS}{other.pk}/", {"instructors": [guide.pk]}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "instructor_inactive")


def test_sessions_in_the_past_or_ending_before_they_start_are_refused(educator_client):
    habitat = HabitatFactory()
    past = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "habitat": habitat.pk,
        },
        format="json",
    )
    backwards = educator_client.post(
        SESSIONS,
        {
            "program": ProgramFactory().pk,
            "starts_at": local(4, 10).isoformat(),
            "ends_at": local(4, 9).isoformat(),
            "habitat": habitat.pk,
        },
        format="json",
    )
    assert (past.json()["code"], backwards.status_code) == ("session_in_past", 400)
    assert Session.objects.count() == 0


def test_the_public_calendar_filters_by_program_dates_and_availability(api_client):
    program = ProgramFactory()
    soon = SessionFactory(program=program, starts_at=local(2, 9), ends_at=local(2, 10))
    later = SessionFactory(program=program, starts_at=local(9, 9), ends_at=local(9, 10))
    full = SessionFactory(
        program=program, starts_at=local(3, 9), ends_at=local(3, 10), capacity=2, confirmed=2
    )
    SessionFactory(starts_at=local(2, 9), ends_at=local(2, 10))  # another program
    SessionFactory(program=ProgramFactory(is_public=False), starts_at=local(2, 11))  # hidden

    def ids(**query):
        answer = api_client.get(SESSIONS, query)
        assert answer.status_code == 200, answer.json()
        return [row["id"] for row in answer.json()["results"]]

    assert ids(program=program.pk) == [soon.pk, full.pk, later.pk]
    assert ids(
        program=program.pk,
        **{"from": (timezone.localdate() + timedelta(days=2)).isoformat()},
        to=(timezone.localdate() + timedelta(days=3)).isoformat(),
    ) == [soon.pk, full.pk]
    assert ids(program=program.pk, available="true") == [soon.pk, later.pk]
    assert api_client.get(SESSIONS, {"from": "not-a-date"}).status_code == 400


def test_mine_lists_the_sessions_the_educator_leads(educator, educator_client):
    mine = SessionFactory()
    guide = Instructor.objects.create(user=educator)
    SessionInstructor.objects.create(
        session=mine, instructor=guide, starts_at=mine.starts_at, ends_at=mine.ends_at
    )
    SessionFactory()
    answer = educator_client.get(SESSIONS, {"mine": "true"})
    assert [row["id"] for row in answer.json()["results"]] == [mine.pk]


def test_capacity_never_goes_below_the_seats_taken(educator_client):
    session = SessionFactory(capacity=10, confirmed=6)
    lowered = educator_client.patch(f"{SESSIONS}{session.pk}/", {"capacity": 5}, format="json")
    assert lowered.status_code == 409
    assert lowered.json()["code"] == "capacity_below_taken"
    assert Session.objects.get(pk=session.pk).capacity == 10
    fine = educator_client.patch(f"{SESSIONS}{session.pk}/", {"capacity": 6}, format="json")
    assert (fine.status_code, fine.json()["capacity"], fine.json()["seats_left"]) == (200, 6, 0)


def test_moving_a_session_checks_the_new_time_and_tells_the_enrolled(
    educator_client, django_capture_on_commit_callbacks, mailoutbox
):
    from apps.business.education import services

    program = ProgramFactory(price=0)
    session = SessionFactory(program=program, starts_at=local(8, 9), ends_at=local(8, 10))
    other = SessionFactory(habitat=session.habitat, starts_at=local(8, 14), ends_at=local(8, 15))
    with django_capture_on_commit_callbacks(execute=True):
        services.enrollment_create(
            actor=UserFactory(email="familia@example.org"),
            session=session,
            participants=[{"name": "Ana", "age": 9}],
        )
    mailoutbox.clear()
    clash = educator_client.patch(
        f"{SESSIONS}{session.pk}/", {"starts_at": local(8, 14).isoformat()}, format="json"
    )
    assert (clash.status_code, clash.json()["details"]["session"]) == (409, other.pk)
    with django_capture_on_commit_callbacks(execute=True):
        moved = educator_client.patch(
            f"{SESSIONS}{session.pk}/", {"starts_at": local(8, 11).isoformat()}, format="json"
        )
    assert moved.status_code == 200, moved.json()
    assert timezone.datetime.fromisoformat(moved.json()["ends_at"]) == local(8, 12)
    assert [message.to for message in mailoutbox] == [["familia@example.org"]]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's exclusion constraints: MySQL/MariaDB and SQLite have none",
)
def test_the_database_refuses_an_overlap_the_services_did_not_see():
    """Migration 0002's exclusion constraint: one habitat, and a whole section against any
    habitat of it, never at overlapping times; two habitats of one section may."""
    tank = HabitatFactory()
    other_tank = HabitatFactory(section=tank.section)
    first = SessionFactory(habitat=tank, starts_at=local(5, 9), ends_at=local(5, 11))
    SessionFactory(habitat=other_tank, starts_at=local(5, 9), ends_at=local(5, 11))
    for place in ({"habitat": tank}, {"habitat": None, "section": tank.section}):
        with pytest.raises(IntegrityError, match="session_place_no_overlap"), transaction.atomic():
            SessionFactory(starts_at=local(5, 10), ends_at=local(5, 12), **place)
    Session.objects.filter(pk=first.pk).update(status="cancelled")
    SessionFactory(habitat=tank, starts_at=local(5, 10), ends_at=local(5, 12))
