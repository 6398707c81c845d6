"""Reads of the education module."""

from datetime import datetime

from django.db.models import (
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .models import (
    SEATED_STATUSES,
    Enrollment,
    EnrollmentStatus,
    Instructor,
    Participant,
    Program,
    Session,
    SessionInstructor,
    SessionStatus,
)


def program_list(*, public_only: bool) -> QuerySet[Program]:
    programs = Program.objects.prefetch_related("species", "sections", "images")
    return programs.filter(is_public=True) if public_only else programs


def instructor_list(*, active_only: bool) -> QuerySet[Instructor]:
    instructors = Instructor.objects.select_related("user")
    return instructors.filter(is_active=True) if active_only else instructors


def _seats(queryset: QuerySet[Enrollment]) -> Subquery:
    return Subquery(
        queryset.order_by().values("session").annotate(seats=Sum("seats")).values("seats"),
        output_field=IntegerField(),
    )


def taken_seats(*, session_id: int, now: datetime) -> tuple[int, int]:
    """Seats of live holds (pending payment) and of live offers, beside ``confirmed``."""
    rows = Enrollment.objects.filter(session_id=session_id).aggregate(
        held=Sum(
            "seats",
            filter=Q(status=EnrollmentStatus.PENDING_PAYMENT, hold_expires_at__gt=now),
        ),
        offered=Sum("seats", filter=Q(status=EnrollmentStatus.OFFERED, offer_expires_at__gt=now)),
    )
    return rows["held"] or 0, rows["offered"] or 0


def session_availability(*, public_only: bool) -> QuerySet[Session]:
    """Sessions with ``held``, ``offered``, ``seats_left``, ``waitlisted`` and ``available``
    (open for enrolment with seats left), in one query."""
    now = timezone.now()
    held = _seats(
        Enrollment.objects.filter(
            session=OuterRef("pk"),
            status=EnrollmentStatus.PENDING_PAYMENT,
            hold_expires_at__gt=now,
        )
    )
    offered = _seats(
        Enrollment.objects.filter(
            session=OuterRef("pk"), status=EnrollmentStatus.OFFERED, offer_expires_at__gt=now
        )
    )
    waitlisted = _seats(
        Enrollment.objects.filter(session=OuterRef("pk"), status=EnrollmentStatus.WAITLISTED)
    )
    sessions = Session.objects.select_related("program", "section", "habitat").prefetch_related(
        Prefetch(
            "instructor_bookings",
            queryset=SessionInstructor.objects.select_related("instructor__user"),
        )
    )
    if public_only:
        sessions = sessions.filter(program__is_public=True)
    return (
        sessions.annotate(
            held=Coalesce(held, Value(0)),
            offered=Coalesce(offered, Value(0)),
            waitlisted=Coalesce(waitlisted, Value(0)),
        )
        .annotate(
            seats_left=Greatest(
                F("capacity") - F("confirmed") - F("held") - F("offered"), Value(0)
            ),
        )
        .annotate(
            available=Q(status=SessionStatus.SCHEDULED, enrollment_deadline__gt=now)
            & Q(capacity__gt=F("confirmed") + F("held") + F("offered"))
        )
        .order_by("starts_at", "id")
    )


def sessions_upcoming(*, now: datetime) -> QuerySet[Session]:
    """Scheduled sessions not started yet, soonest first, with ``seats_left`` (as
    ``session_availability``), without their instructors."""
    return (
        session_availability(public_only=False)
        .prefetch_related(None)
        .filter(status=SessionStatus.SCHEDULED, starts_at__gte=now)
    )


def session_find(*, session_id: int) -> Session | None:
    return Session.objects.select_related("program").filter(pk=session_id).first()


def sessions_led_by(sessions: QuerySet[Session], *, user_id: int) -> QuerySet[Session]:
    return sessions.filter(
        Exists(
            SessionInstructor.objects.filter(session=OuterRef("pk"), instructor__user_id=user_id)
        )
    )


def enrollment_list() -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.select_related("session__program", "order")
        .prefetch_related("participants")
        .order_by("-created_at", "-id")
    )


def session_participants(*, session: Session) -> QuerySet[Participant]:
    """Who comes: participants not cancelled, of enrollments holding confirmed seats."""
    return (
        Participant.objects.filter(
            enrollment__session=session,
            enrollment__status__in=SEATED_STATUSES,
            cancelled_at__isnull=True,
        )
        .select_related("enrollment")
        .order_by("enrollment__school_name", "enrollment_id", "id")
    )


def sessions_below_minimum(*, now: datetime) -> QuerySet[Session]:
    """Scheduled sessions, not started, whose enrolment closed with fewer confirmed
    participants than the program's minimum: for staff to decide whether they run."""
    return (
        Session.objects.filter(
            status=SessionStatus.SCHEDULED, enrollment_deadline__lte=now, starts_at__gt=now
        )
        .filter(confirmed__lt=F("program__min_participants"))
        .select_related("program", "section", "habitat")
        .order_by("starts_at", "id")
    )
