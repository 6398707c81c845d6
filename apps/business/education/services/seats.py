"""A session's seats: the lock, what is free, the waitlist and the declared transitions.

Everything here runs inside the caller's transaction with the session's row locked
(``lock_session``): ``confirmed`` changes only under that lock, holds and offers are counted
under it, and the waitlist is settled under it, so two writers never promise the same seat.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.support.common.errors import ConflictError, NotFoundError
from apps.support.common.locking import lock_rows
from apps.support.common.services import email_send_on_commit

from .. import errors
from ..models import TRANSITIONS, Enrollment, EnrollmentStatus, Session, SessionStatus
from ..selectors import taken_seats

# The kind of order line an enrollment is sold as (handlers.py).
LINE_KIND = "enrollment"


def lock_session(session_id: int) -> Session:
    sessions = lock_rows(Session.objects.filter(pk=session_id))
    if not sessions:
        raise NotFoundError(_("There is no such session."), code=errors.SESSION_NOT_FOUND)
    return sessions[0]


def lock_sessions(session_ids: Sequence[int]) -> dict[int, Session]:
    """Several sessions' rows, locked in id order (one order everywhere: no deadlocks)."""
    return {s.pk: s for s in lock_rows(Session.objects.filter(pk__in=set(session_ids)))}


def session_label(session: Session) -> str:
    when = formats.date_format(timezone.localtime(session.starts_at), "DATETIME_FORMAT")
    return f"{session.program.title} — {when}"


def free_seats(session: Session, now: datetime) -> int:
    """Seats nobody has: not confirmed, not held by an unpaid order, not offered (locked)."""
    held, offered = taken_seats(session_id=session.pk, now=now)
    return session.capacity - session.confirmed - held - offered


def session_full(session: Session, free: int) -> ConflictError:
    free = max(free, 0)
    return ConflictError(
        ngettext(
            "Only %(free)d seat is left in %(session)s.",
            "Only %(free)d seats are left in %(session)s.",
            free,
        )
        % {"free": free, "session": session_label(session)},
        code=errors.SESSION_FULL,
        details={"seats_left": free},
    )


def ensure_open(session: Session, now: datetime) -> None:
    """New enrollments (and offers) only while the session is scheduled, before its deadline."""
    if session.status == SessionStatus.CANCELLED:
        raise ConflictError(_("This session was cancelled."), code=errors.SESSION_CANCELLED)
    if session.status == SessionStatus.DONE or session.starts_at <= now:
        raise ConflictError(_("This session has already taken place."), code=errors.SESSION_DONE)
    if now >= session.enrollment_deadline:
        raise ConflictError(
            _("Enrolment for this session closed at %(deadline)s.")
            % {
                "deadline": formats.date_format(
                    timezone.localtime(session.enrollment_deadline), "DATETIME_FORMAT"
                )
            },
            code=errors.ENROLLMENT_CLOSED,
        )


def transition(enrollment: Enrollment, to: str) -> str:
    """Move ``enrollment`` to status ``to`` if the declared table allows it (not saved);
    returns the status it had. Anything else is a 409 listing the allowed ones."""
    current = enrollment.status
    allowed = TRANSITIONS[current]
    if to not in allowed:
        raise ConflictError(
            _("An enrollment that is %(current)s cannot become %(to)s.")
            % {
                "current": EnrollmentStatus(current).label,
                "to": EnrollmentStatus(to).label,
            },
            code=errors.INVALID_TRANSITION,
            details={"status": current, "requested": to, "allowed": list(allowed)},
        )
    enrollment.status = to
    return current


def seat(session: Session, seats: int) -> None:
    """Count ``seats`` more as confirmed (the session locked; the check constraint refuses
    more than the capacity)."""
    Session.objects.filter(pk=session.pk).update(confirmed=F("confirmed") + seats)
    session.confirmed += seats


def unseat(session: Session, seats: int) -> None:
    Session.objects.filter(pk=session.pk).update(confirmed=F("confirmed") - seats)
    session.confirmed -= seats


def expire_offers(session: Session, now: datetime) -> int:
    """Record as cancelled the offers that ran out unanswered (they stopped counting at
    ``offer_expires_at`` already)."""
    return Enrollment.objects.filter(
        session=session, status=EnrollmentStatus.OFFERED, offer_expires_at__lte=now
    ).update(
        status=EnrollmentStatus.CANCELLED,
        cancelled_at=now,
        cancel_reason="offer expired",
        updated_at=now,
    )


def settle_waitlist(session: Session, now: datetime) -> list[Enrollment]:
    """Offer the free seats to the waitlist, first come first served, skipping an enrollment
    that does not fit (a family of four when three seats are free) for the next one that does.

    Called under the session's lock by every write that may free seats, and before every
    new enrollment takes seats, so that the queue goes first. Returns the new offers, whose
    emails leave when the transaction commits.
    """
    expire_offers(session, now)
    if session.status != SessionStatus.SCHEDULED or now >= session.enrollment_deadline:
        return []
    free = free_seats(session, now)
    if free <= 0:
        return []
    until = min(now + timedelta(hours=settings.EDUCATION_OFFER_HOURS), session.enrollment_deadline)
    offered = []
    waiting = Enrollment.objects.filter(
        session=session, status=EnrollmentStatus.WAITLISTED
    ).order_by("waitlisted_at", "id")
    for enrollment in waiting:
        if enrollment.seats > free:
            continue
        transition(enrollment, EnrollmentStatus.OFFERED)
        enrollment.offer_expires_at = until
        enrollment.save(update_fields=["status", "offer_expires_at", "updated_at"])
        offered.append(enrollment)
        free -= enrollment.seats
        if free <= 0:
            break
    for enrollment in offered:
        _email_offer(session, enrollment)
    return offered


def _email_offer(session: Session, enrollment: Enrollment) -> None:
    until = formats.date_format(timezone.localtime(enrollment.offer_expires_at), "DATETIME_FORMAT")
    email_send_on_commit(
        subject=_("Seats for you: %(session)s") % {"session": session_label(session)},
        body=_(
            "Seats have come free in %(session)s for the %(seats)d participants of your "
            "enrollment %(id)d on its waitlist. They are yours until %(until)s: accept the offer "
            "(POST /api/v1/education/enrollments/%(id)d/accept-offer/) to take them%(pay)s. "
            "Unanswered, the offer passes to the next on the waitlist."
        )
        % {
            "session": session_label(session),
            "seats": enrollment.seats,
            "id": enrollment.pk,
            "until": until,
            "pay": _(" and pay") if not session.program.is_free else "",
        },
        to=[enrollment.email],
    )


def offer_gone(enrollment: Enrollment) -> ConflictError:
    if enrollment.cancel_reason == "offer expired" or (
        enrollment.status == EnrollmentStatus.OFFERED
        and enrollment.offer_expires_at is not None
        and enrollment.offer_expires_at <= timezone.now()
    ):
        return ConflictError(
            _("The seats offered to this enrollment were passed on when the offer expired."),
            code=errors.OFFER_EXPIRED,
        )
    return ConflictError(
        _("This enrollment has no offer of seats to accept."),
        code=errors.INVALID_TRANSITION,
        details={
            "status": enrollment.status,
            "requested": EnrollmentStatus.PENDING_PAYMENT,
            "allowed": [],
        },
    )
