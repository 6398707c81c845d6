"""Sessions: schedule one (never two at one place or with one instructor at once), change
it, cancel it for everyone, take attendance.

A place is a habitat, or a whole section: a whole-section session clashes with every session
of the section, a habitat session with those of its habitat and those of the whole section.
Lock order: the section's row, the instructors' rows, then the session row; never the other
way round. On PostgreSQL exclusion constraints refuse an overlap that got past the services
anyway (migration 0002).
"""

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from apps.business.infrastructure.models import Habitat, Section
from apps.business.payments import services as payments
from apps.business.payments.models import Refund
from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, ServiceError
from apps.support.common.locking import lock_rows
from apps.support.common.services import email_send_on_commit
from apps.support.security.models import User

from .. import errors
from ..models import (
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
from ..selectors import session_participants
from .seats import free_seats, lock_session, session_label, settle_waitlist, transition, unseat

logger = logging.getLogger(__name__)

# Attendance may be taken from this long before the session starts (children arrive early).
ATTENDANCE_OPENS_BEFORE = timedelta(hours=1)


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _clash(code: str, what: str, other: Session) -> ConflictError:
    return ConflictError(
        _("%(what)s is already booked for %(session)s (%(start)s to %(end)s).")
        % {
            "what": what,
            "session": other.program.title,
            "start": _when(other.starts_at),
            "end": _when(other.ends_at),
        },
        code=code,
        details={
            "session": other.pk,
            "program": other.program.slug,
            "starts_at": timezone.localtime(other.starts_at).isoformat(),
            "ends_at": timezone.localtime(other.ends_at).isoformat(),
        },
    )


def _check_clashes(
    *,
    starts_at: datetime,
    ends_at: datetime,
    section: Section,
    habitat: Habitat | None,
    instructors: Sequence[Instructor],
    exclude: int | None,
) -> None:
    """409 naming the session that already has the place or an instructor at those times
    (the place and the instructors are locked by the caller: no race between check and
    insert)."""
    overlapping = Q(starts_at__lt=ends_at, ends_at__gt=starts_at)
    place = Q(section=section)
    if habitat is not None:
        place &= Q(habitat=habitat) | Q(habitat__isnull=True)
    sessions = Session.objects.filter(overlapping & place).exclude(status=SessionStatus.CANCELLED)
    bookings = SessionInstructor.objects.filter(overlapping, is_active=True)
    if exclude is not None:
        sessions = sessions.exclude(pk=exclude)
        bookings = bookings.exclude(session_id=exclude)
    other = sessions.select_related("program").order_by("starts_at").first()
    if other is not None:
        raise _clash(errors.PLACE_BOOKED, str(habitat or section), other)
    for instructor in instructors:
        booking = (
            bookings.filter(instructor=instructor)
            .select_related("session__program")
            .order_by("starts_at")
            .first()
        )
        if booking is not None:
            raise _clash(errors.INSTRUCTOR_BOOKED, str(instructor), booking.session)


def _place(section: Section | None, habitat: Habitat | None) -> tuple[Section, Habitat | None]:
    """The section and habitat of a place given as a habitat, a whole section, or both when
    the habitat is in that section."""
    if habitat is not None:
        if section is not None and section.pk != habitat.section_id:
            raise ServiceError(
                _("%(habitat)s is not in %(section)s.") % {"habitat": habitat, "section": section},
                code="invalid",
                field="habitat",
            )
        return habitat.section, habitat
    if section is None:
        raise ServiceError(
            _("A session takes place in a habitat or in a whole section."),
            code="invalid",
            field="habitat",
        )
    return section, None


def _lock_place_and_instructors(
    section: Section, instructors: Sequence[Instructor], *, keeping: Sequence[int] = ()
) -> list[Instructor]:
    """Lock the section (every booking of its habitats serialises on it) and the
    instructors; an inactive instructor may keep the sessions already led (``keeping``) but
    takes no new one."""
    lock_rows(Section.objects.filter(pk=section.pk))
    locked = lock_rows(Instructor.objects.filter(pk__in=[i.pk for i in instructors]))
    inactive = [i for i in locked if not i.is_active and i.pk not in keeping]
    if inactive:
        raise ServiceError(
            _("%(name)s no longer leads sessions.") % {"name": inactive[0]},
            code=errors.INSTRUCTOR_INACTIVE,
            field="instructors",
        )
    return locked


# How far ahead sessions may be scheduled (as the park plans its opening days).
PLANNING_HORIZON = timedelta(days=3653)


def _horizon_check(moment: datetime, field: str) -> None:
    if moment > timezone.now() + PLANNING_HORIZON:
        raise ServiceError(
            _("Sessions are scheduled at most ten years ahead."),
            code=errors.SESSION_TOO_FAR,
            field=field,
        )


def _check_times(*, starts_at: datetime, ends_at: datetime, deadline: datetime, new: bool) -> None:
    if new and starts_at <= timezone.now():
        raise ServiceError(
            _("A session is scheduled in the future."),
            code=errors.SESSION_IN_PAST,
            field="starts_at",
        )
    _horizon_check(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise ServiceError(_("A session ends after it starts."), code="invalid", field="ends_at")
    if deadline > starts_at:
        raise ServiceError(
            _("Enrolment closes before the session starts."),
            code="invalid",
            field="enrollment_deadline",
        )


def _insert_guarded(write: Any) -> Any:
    """The exclusion constraints (PostgreSQL) are the last line of defence."""
    try:
        with transaction.atomic():
            return write()
    except IntegrityError as error:
        if "no_overlap" not in str(error):
            raise
        raise ConflictError(
            _("The place or an instructor is already booked at that time."),
            code=errors.INSTRUCTOR_BOOKED if "instructor" in str(error) else errors.PLACE_BOOKED,
        ) from error


def session_create(
    *,
    actor: User,
    program: Program,
    starts_at: datetime,
    section: Section | None = None,
    habitat: Habitat | None = None,
    instructors: Sequence[Instructor] = (),
    ends_at: datetime | None = None,
    capacity: int | None = None,
    enrollment_deadline: datetime | None = None,
) -> Session:
    """Schedule ``program`` at a place (a whole section or one habitat) with instructors.
    Ends after the program's duration, seats the program's maximum and closes enrolment
    ``EDUCATION_DEADLINE_HOURS`` before, unless told otherwise."""
    section, habitat = _place(section, habitat)
    _horizon_check(starts_at, "starts_at")
    ends_at = ends_at or starts_at + timedelta(minutes=program.duration_minutes)
    if enrollment_deadline is None:
        enrollment_deadline = starts_at - timedelta(hours=settings.EDUCATION_DEADLINE_HOURS)
        if enrollment_deadline <= timezone.now():
            enrollment_deadline = starts_at
    _check_times(starts_at=starts_at, ends_at=ends_at, deadline=enrollment_deadline, new=True)
    with transaction.atomic():
        locked = _lock_place_and_instructors(section, instructors)
        _check_clashes(
            starts_at=starts_at,
            ends_at=ends_at,
            section=section,
            habitat=habitat,
            instructors=locked,
            exclude=None,
        )

        def write() -> Session:
            session = Session.objects.create(
                program=program,
                starts_at=starts_at,
                ends_at=ends_at,
                section=section,
                habitat=habitat,
                capacity=capacity or program.max_participants,
                enrollment_deadline=enrollment_deadline,
            )
            SessionInstructor.objects.bulk_create(
                [
                    SessionInstructor(
                        session=session, instructor=i, starts_at=starts_at, ends_at=ends_at
                    )
                    for i in locked
                ]
            )
            return session

        session = _insert_guarded(write)
        audit.record(
            action="education.session.created",
            actor=actor,
            target=session,
            metadata={
                "program": program.slug,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "place": str(session.place),
                "instructors": [i.pk for i in locked],
                "capacity": session.capacity,
            },
        )
    return session


SESSION_FIELDS = (
    "starts_at",
    "ends_at",
    "section",
    "habitat",
    "instructors",
    "capacity",
    "enrollment_deadline",
)


def session_update(*, actor: User, session: Session, data: Mapping[str, Any]) -> Session:
    """Move, re-staff or resize a scheduled session. Capacity never below the seats taken;
    more capacity goes to the waitlist first; the enrolled are told of a new time."""
    unknown = set(data) - set(SESSION_FIELDS)
    if unknown:
        raise TypeError(f"Session fields not writable here: {sorted(unknown)}")
    current_instructors = list(session.instructors.all())
    if "habitat" in data or "section" in data:
        # A new habitat brings its section; a section alone (or ``habitat: null``) books the
        # whole section.
        new_habitat = (
            data.get("habitat")
            if "habitat" in data
            else (None if "section" in data else session.habitat)
        )
        new_section = (
            data.get("section")
            if "section" in data
            else (None if new_habitat is not None else session.section)
        )
        section, habitat = _place(new_section, new_habitat)
    else:
        section, habitat = session.section, session.habitat
    instructors = data.get("instructors", current_instructors)
    starts_at = data.get("starts_at", session.starts_at)
    _horizon_check(starts_at, "starts_at")
    ends_at = data.get("ends_at", session.ends_at)
    deadline = data.get("enrollment_deadline", session.enrollment_deadline)
    if "starts_at" in data and "ends_at" not in data:
        ends_at = starts_at + (session.ends_at - session.starts_at)
    _check_times(
        starts_at=starts_at,
        ends_at=ends_at,
        deadline=deadline,
        new="starts_at" in data and starts_at != session.starts_at,
    )
    with transaction.atomic():
        locked = _lock_place_and_instructors(
            section, instructors, keeping=[i.pk for i in current_instructors]
        )
        session = lock_session(session.pk)
        now = timezone.now()
        _ensure_scheduled(
            session, _("Only a scheduled session can be changed; this one is %(status)s.")
        )
        _check_clashes(
            starts_at=starts_at,
            ends_at=ends_at,
            section=section,
            habitat=habitat,
            instructors=locked,
            exclude=session.pk,
        )
        changes: dict[str, list[Any]] = {}
        capacity = data.get("capacity", session.capacity)
        if capacity != session.capacity:
            taken = session.capacity - free_seats(session, now)
            if capacity < taken:
                raise ConflictError(
                    _("%(taken)d seats of this session are taken; capacity cannot go below.")
                    % {"taken": taken},
                    code=errors.CAPACITY_BELOW_TAKEN,
                    field="capacity",
                )
        for name, value in (
            ("starts_at", starts_at),
            ("ends_at", ends_at),
            ("section", section),
            ("habitat", habitat),
            ("capacity", capacity),
            ("enrollment_deadline", deadline),
        ):
            if getattr(session, name) != value:
                old = getattr(session, name)
                changes[name] = [getattr(old, "pk", old), getattr(value, "pk", value)]
                setattr(session, name, value)
        before = {i.pk for i in current_instructors}
        after = {i.pk for i in locked}
        if before != after:
            changes["instructors"] = [sorted(before), sorted(after)]
        if not changes:
            return session

        def write() -> None:
            session.save()
            SessionInstructor.objects.filter(session=session).exclude(
                instructor_id__in=after
            ).delete()
            SessionInstructor.objects.filter(session=session).update(
                starts_at=starts_at, ends_at=ends_at
            )
            SessionInstructor.objects.bulk_create(
                [
                    SessionInstructor(
                        session=session, instructor_id=pk, starts_at=starts_at, ends_at=ends_at
                    )
                    for pk in sorted(after - before)
                ]
            )

        _insert_guarded(write)
        settle_waitlist(session, now)
        audit.record(
            action="education.session.changed", actor=actor, target=session, changes=changes
        )
        if "starts_at" in changes or "ends_at" in changes:
            _email_enrolled(
                session,
                subject=_("New time: %(session)s") % {"session": session_label(session)},
                body=_(
                    "%(program)s, in which you are enrolled, now takes place from %(start)s "
                    "to %(end)s. If the new time does not suit you, you may cancel your "
                    "enrollment."
                )
                % {
                    "program": session.program.title,
                    "start": _when(starts_at),
                    "end": _when(ends_at),
                },
            )
    return session


def _ensure_scheduled(session: Session, message: str) -> None:
    if session.status != SessionStatus.SCHEDULED:
        raise ConflictError(
            message % {"status": session.get_status_display()},
            code=errors.SESSION_NOT_SCHEDULED,
        )


def _email_enrolled(session: Session, *, subject: str, body: str) -> None:
    emails = (
        Enrollment.objects.filter(session=session)
        .exclude(status=EnrollmentStatus.CANCELLED)
        .values_list("email", flat=True)
        .distinct()
    )
    for email in emails:
        email_send_on_commit(subject=subject, body=body, to=[email])


def session_cancel(*, actor: User, session: Session, reason: str) -> Session:
    """Call a session off for everyone (weather, an instructor ill, too few enrolled): every
    enrollment cancelled, the waitlist closed, everyone emailed, paid seats refunded through
    the gateway after the commit (unpaid orders cancelled). Audited."""
    with transaction.atomic():
        session = lock_session(session.pk)
        now = timezone.now()
        _ensure_scheduled(
            session, _("Only a scheduled session can be cancelled; this one is %(status)s.")
        )
        _email_enrolled(
            session,
            subject=_("Cancelled: %(session)s") % {"session": session_label(session)},
            body=_(
                "We are sorry: %(session)s will not take place (%(reason)s). Your enrollment "
                "is cancelled; whatever you paid for it is refunded to the means of payment "
                "you used."
            )
            % {"session": session_label(session), "reason": reason},
        )
        session.status = SessionStatus.CANCELLED
        session.cancelled_at = now
        session.cancel_reason = reason[:200]
        session.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        SessionInstructor.objects.filter(session=session).update(is_active=False)
        # Unpaid and free enrollments end here; paid ones below, each with its refund.
        for enrollment in Enrollment.objects.filter(
            session=session,
            status__in=(
                EnrollmentStatus.WAITLISTED,
                EnrollmentStatus.OFFERED,
                EnrollmentStatus.CONFIRMED,
            ),
            order__isnull=True,
        ):
            if enrollment.status == EnrollmentStatus.CONFIRMED:
                unseat(session, enrollment.seats)
            transition(enrollment, EnrollmentStatus.CANCELLED)
            enrollment.cancelled_at = now
            enrollment.cancel_reason = "session cancelled"
            enrollment.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        audit.record(
            action="education.session.cancelled",
            actor=actor,
            target=session,
            changes={"status": [SessionStatus.SCHEDULED, SessionStatus.CANCELLED]},
            metadata={"reason": reason},
        )
    session_finish_cancellation(session=session, actor=actor)
    session.refresh_from_db()
    return session


def session_finish_cancellation(*, session: Session, actor: User | None = None) -> int:
    """Cancel (and refund) what a cancelled session still has: enrollments with an order.
    Each in its own transaction, its gateway called after the commit; run again by the
    housekeeping task until nothing is left (an order being paid right now is left for the
    next run). Returns how many were cancelled."""
    done = 0
    for enrollment in Enrollment.objects.filter(
        session=session,
        status__in=(EnrollmentStatus.PENDING_PAYMENT, EnrollmentStatus.CONFIRMED),
        order__isnull=False,
    ).order_by("id"):
        try:
            if enrollment.status == EnrollmentStatus.PENDING_PAYMENT:
                payments.order_cancel(
                    order=enrollment.order,  # type: ignore[arg-type]
                    actor=actor,  # type: ignore[arg-type]
                    reason="session cancelled",
                )
            else:
                _cancel_paid(enrollment=enrollment, actor=actor)
            done += 1
        except ConflictError as conflict:
            logger.info(
                "Session %s: enrollment %s left for the next run (%s).",
                session.pk,
                enrollment.pk,
                conflict.code,
            )
    return done


def _cancel_paid(*, enrollment: Enrollment, actor: User | None) -> None:
    refund: Refund | None = None
    with transaction.atomic():
        order = payments.order_lock(enrollment.order_id)  # type: ignore[arg-type]
        session = lock_session(enrollment.session_id)
        enrollment.refresh_from_db()
        if enrollment.status != EnrollmentStatus.CONFIRMED:
            return
        now = timezone.now()
        active = list(enrollment.participants.filter(cancelled_at__isnull=True))
        Participant.objects.filter(pk__in=[p.pk for p in active]).update(cancelled_at=now)
        unseat(session, enrollment.seats)
        transition(enrollment, EnrollmentStatus.CANCELLED)
        enrollment.seats = 0
        enrollment.cancelled_at = now
        enrollment.cancel_reason = "session cancelled"
        enrollment.save(
            update_fields=["status", "seats", "cancelled_at", "cancel_reason", "updated_at"]
        )
        if enrollment.order_line is not None and active:
            refund = payments.refund_items_open(
                order=order,
                items=[(enrollment.order_line, len(active))],
                actor=actor,  # type: ignore[arg-type]
                reason="session cancelled",
            )
        audit.record(
            action="education.enrollment.cancelled",
            actor=actor or audit.SYSTEM,
            target=enrollment,
            metadata={
                "session": session.pk,
                "reason": "session cancelled",
                "refund": str(refund.amount) if refund else None,
            },
        )
    if refund is not None:
        payments.refund_send(refund=refund)


def session_attendance(
    *, actor: User, session: Session, present: Mapping[int, bool]
) -> list[Enrollment]:
    """The educator's list, whole: every participant expected (``present`` by participant
    id). An enrollment with someone present is ``attended``, else ``no_show``; sent again, it
    corrects the last one. The session is then done; its waitlist closes."""
    with transaction.atomic():
        session = lock_session(session.pk)
        now = timezone.now()
        if session.status == SessionStatus.CANCELLED:
            raise ConflictError(_("This session was cancelled."), code=errors.SESSION_CANCELLED)
        if now < session.starts_at - ATTENDANCE_OPENS_BEFORE:
            raise ConflictError(
                _("Attendance is taken from %(time)s.")
                % {"time": _when(session.starts_at - ATTENDANCE_OPENS_BEFORE)},
                code=errors.ATTENDANCE_TOO_EARLY,
            )
        expected = {person.pk: person for person in session_participants(session=session)}
        unknown = sorted(set(present) - set(expected))
        if unknown:
            raise ServiceError(
                _("Participants %(ids)s are not expected at this session.")
                % {"ids": ", ".join(map(str, unknown))},
                code=errors.UNKNOWN_PARTICIPANT,
                field="participants",
                details={"unknown": unknown},
            )
        missing = sorted(set(expected) - set(present))
        if missing:
            raise ServiceError(
                _("Mark every participant: %(count)d are missing from the list.")
                % {"count": len(missing)},
                code=errors.ATTENDANCE_INCOMPLETE,
                field="participants",
                details={"missing": missing},
            )
        for mark in (True, False):
            Participant.objects.filter(
                pk__in=[pk for pk, here in present.items() if here is mark]
            ).exclude(present=mark).update(present=mark)
        came = {expected[pk].enrollment_id for pk, here in present.items() if here}
        marked = []
        for enrollment in Enrollment.objects.filter(
            session=session, status__in=SEATED_STATUSES
        ).order_by("id"):
            target = (
                EnrollmentStatus.ATTENDED if enrollment.pk in came else EnrollmentStatus.NO_SHOW
            )
            if enrollment.status != target:
                transition(enrollment, target)
                enrollment.save(update_fields=["status", "updated_at"])
            marked.append(enrollment)
        previous = session.status
        if session.status == SessionStatus.SCHEDULED:
            session.status = SessionStatus.DONE
            session.save(update_fields=["status", "updated_at"])
            # Nobody else gets in now: the waitlist and the open offers end.
            Enrollment.objects.filter(
                session=session,
                status__in=(EnrollmentStatus.WAITLISTED, EnrollmentStatus.OFFERED),
            ).update(
                status=EnrollmentStatus.CANCELLED,
                cancelled_at=now,
                cancel_reason="session took place",
                updated_at=now,
            )
        audit.record(
            action="education.session.attendance",
            actor=actor,
            target=session,
            changes={"status": [previous, session.status]} if previous != session.status else None,
            metadata={
                "present": sum(1 for value in present.values() if value),
                "absent": sum(1 for value in present.values() if not value),
            },
        )
    return marked
