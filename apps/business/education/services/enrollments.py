"""Enrollments: enrol (confirmed, held for payment, or waitlisted), cancel some or all of
the participants, accept an offer of seats.

Lock order, as everywhere: the order row (paid enrollments), then the session row, then the
audit chain head. Gateways are called after the commit (refunds: intent, commit, call).
"""

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Refund
from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError, ServiceError
from apps.support.common.locking import BUSY
from apps.support.security.models import User
from apps.support.security.roles import EDUCATION_STAFF, has_any_role

from .. import errors
from ..models import Enrollment, EnrollmentStatus, Participant, Session
from .participants import checked_participants
from .seats import (
    LINE_KIND,
    ensure_open,
    free_seats,
    lock_session,
    offer_gone,
    seat,
    session_full,
    settle_waitlist,
    transition,
    unseat,
)


def _audit(action: str, actor: Any, enrollment: Enrollment, **metadata: Any) -> None:
    audit.record(
        action=f"education.enrollment.{action}",
        actor=actor,
        target=enrollment,
        metadata={"session": enrollment.session_id, "seats": enrollment.seats, **metadata},
    )


def _email_confirmation_on_commit(enrollment: Enrollment) -> None:
    from ..tasks import send_enrollment_confirmation

    pk = enrollment.pk
    transaction.on_commit(lambda: send_enrollment_confirmation.delay(pk))


def enrollment_create(
    *,
    actor: User,
    session: Session,
    participants: Sequence[Mapping[str, Any]],
    notes: str = "",
    school_name: str = "",
    waitlist: bool = False,
) -> Enrollment:
    """Enrol ``participants`` in ``session``.

    A free session confirms at once. A paid one holds the seats in a new order (pay it with
    the payments API) for ``ORDER_HOLD_MINUTES``. A full one answers 409 ``session_full``
    unless ``waitlist``: then the enrollment joins the waitlist.
    """
    if not session.program.is_public:
        raise ServiceError(
            _("There is no such session."), code=errors.SESSION_NOT_FOUND, field="session"
        )
    people = checked_participants(session=session, participants=participants)
    _settle_first(session)
    if session.program.is_free:
        with transaction.atomic():
            session = lock_session(session.pk)
            now = timezone.now()
            ensure_open(session, now)
            settle_waitlist(session, now)
            free = free_seats(session, now)
            if len(people) > free and not waitlist:
                raise session_full(session, free)
            status = (
                EnrollmentStatus.CONFIRMED if len(people) <= free else EnrollmentStatus.WAITLISTED
            )
            enrollment = _enrollment_new(
                actor=actor,
                session=session,
                people=people,
                status=status,
                notes=notes,
                school_name=school_name,
            )
            if status == EnrollmentStatus.CONFIRMED:
                seat(session, enrollment.seats)
                _email_confirmation_on_commit(enrollment)
            _audit("created", actor, enrollment, status=status)
        return enrollment
    line = LineRequest(
        kind=LINE_KIND,
        quantity=len(people),
        fields={
            "session": session.pk,
            "participants": [person.as_dict() for person in people],
            "notes": notes,
            "school_name": school_name,
        },
    )
    try:
        order = payments.order_create(actor=actor, lines=[line])
    except ConflictError as conflict:
        if conflict.code != errors.SESSION_FULL or not waitlist:
            raise
        return _waitlist_join(
            actor=actor, session=session, people=people, notes=notes, school_name=school_name
        )
    return Enrollment.objects.select_related("session__program", "order").get(order=order)


def _settle_first(session: Session) -> None:
    """Give the waitlist what it is owed in a transaction of its own, so that the offers stand
    even when the enrollment that follows is refused (rolled back) for want of seats."""
    with transaction.atomic():
        settle_waitlist(lock_session(session.pk), timezone.now())


def _enrollment_new(
    *,
    actor: User,
    session: Session,
    people: Sequence[Any],
    status: str,
    notes: str,
    school_name: str,
) -> Enrollment:
    enrollment = Enrollment.objects.create(
        session=session,
        user=actor,
        email=actor.email,
        status=status,
        seats=len(people),
        notes=notes,
        school_name=school_name,
        waitlisted_at=timezone.now() if status == EnrollmentStatus.WAITLISTED else None,
        created_by=actor,
    )
    Participant.objects.bulk_create(
        [
            Participant(
                enrollment=enrollment,
                name=person.name,
                age=person.age,
                birth_date=person.birth_date,
                role=person.role,
                needs=person.needs,
            )
            for person in people
        ]
    )
    return enrollment


def _waitlist_join(
    *, actor: User, session: Session, people: Sequence[Any], notes: str, school_name: str
) -> Enrollment:
    with transaction.atomic():
        session = lock_session(session.pk)
        now = timezone.now()
        ensure_open(session, now)
        enrollment = _enrollment_new(
            actor=actor,
            session=session,
            people=people,
            status=EnrollmentStatus.WAITLISTED,
            notes=notes,
            school_name=school_name,
        )
        # Seats may have come free since the order was refused: offered at once, if so.
        settle_waitlist(session, now)
        enrollment.refresh_from_db()
        _audit("created", actor, enrollment, status=EnrollmentStatus.WAITLISTED)
    return enrollment


def enrollment_accept_offer(*, actor: User, enrollment: Enrollment) -> Enrollment:
    """Take the seats offered to a waitlisted enrollment: confirmed at once for a free
    session; for a paid one an order holds them (pay it with the payments API)."""
    session = enrollment.session
    if not session.program.is_free:
        payments.order_create(
            actor=actor,
            lines=[
                LineRequest(
                    kind=LINE_KIND, quantity=enrollment.seats, fields={"enrollment": enrollment.pk}
                )
            ],
        )
        enrollment.refresh_from_db()
        _audit_after("offer_accepted", actor, enrollment)
        return enrollment
    with transaction.atomic():
        session = lock_session(session.pk)
        now = timezone.now()
        settle_waitlist(session, now)  # an offer that ran out is passed on first
        enrollment.refresh_from_db()
        if enrollment.status != EnrollmentStatus.OFFERED:
            raise offer_gone(enrollment)
        ensure_open(session, now)
        transition(enrollment, EnrollmentStatus.CONFIRMED)
        enrollment.save(update_fields=["status", "updated_at"])
        seat(session, enrollment.seats)
        _email_confirmation_on_commit(enrollment)
        _audit("offer_accepted", actor, enrollment)
    return enrollment


def _audit_after(action: str, actor: User, enrollment: Enrollment) -> None:
    with transaction.atomic():
        _audit(action, actor, enrollment, order=enrollment.order_id)


class _Moved(Exception):
    """The enrollment changed (an offer accepted, an order paid) between reading it and
    taking the locks: read it again."""


def enrollment_cancel(
    *,
    actor: User,
    enrollment: Enrollment,
    participant_ids: Sequence[int] | None = None,
    reason: str = "",
) -> Enrollment:
    """Cancel the enrollment, or only ``participant_ids`` of it (five students of a school
    group). Seats go to the waitlist at once; money for paid participants goes back through
    the gateway after the commit. Visitors may cancel paid seats until
    ``EDUCATION_CANCELLATION_HOURS`` before the session; education staff until it starts."""
    for _attempt in range(3):
        enrollment.refresh_from_db()
        status = enrollment.effective_status()
        if status == EnrollmentStatus.CANCELLED and enrollment.status != status:
            raise ConflictError(
                _("This enrollment has already ended (its offer or hold ran out)."),
                code=errors.INVALID_TRANSITION,
                details={"status": status, "requested": status, "allowed": []},
            )
        if enrollment.status == EnrollmentStatus.PENDING_PAYMENT:
            if participant_ids:
                raise ConflictError(
                    _("An enrollment waiting for payment is cancelled whole."),
                    code=errors.PARTIAL_CANCEL_UNPAID,
                )
            # Its unpaid order goes with it (with anything else the order held).
            payments.order_cancel(
                order=enrollment.order,  # type: ignore[arg-type]
                actor=actor,
                reason=reason or "enrollment cancelled",
            )
            enrollment.refresh_from_db()
            return enrollment
        try:
            return _enrollment_cancel_locked(
                actor=actor,
                enrollment=enrollment,
                participant_ids=participant_ids,
                reason=reason,
                order_id=enrollment.order_id,
            )
        except _Moved:
            continue
    raise ConflictError(
        _("This enrollment is changing right now; please try again in a moment."),
        code=BUSY,
        retry_after=1,
    )


def _enrollment_cancel_locked(
    *,
    actor: User,
    enrollment: Enrollment,
    participant_ids: Sequence[int] | None,
    reason: str,
    order_id: int | None,
) -> Enrollment:
    refund: Refund | None = None
    with transaction.atomic():
        # The order first (lock order), the one read before the locks: if the enrollment has
        # another by the time the session is locked (an offer accepted meanwhile), start over.
        order = payments.order_lock(order_id) if order_id is not None else None
        session = lock_session(enrollment.session_id)
        now = timezone.now()
        enrollment.refresh_from_db()
        if enrollment.order_id != order_id or enrollment.status == EnrollmentStatus.PENDING_PAYMENT:
            raise _Moved
        if enrollment.status != EnrollmentStatus.CONFIRMED:
            if participant_ids:
                raise ConflictError(
                    _("Only confirmed enrollments are cancelled in part."),
                    code=errors.INVALID_TRANSITION,
                    details={
                        "status": enrollment.status,
                        "requested": EnrollmentStatus.CANCELLED,
                        "allowed": [],
                    },
                )
            previous = transition(enrollment, EnrollmentStatus.CANCELLED)
            enrollment.cancelled_at = now
            enrollment.cancel_reason = (reason or "cancelled")[:200]
            enrollment.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
            settle_waitlist(session, now)
            _audit("cancelled", actor, enrollment, previous=previous, reason=reason)
            return enrollment
        if not has_any_role(actor, EDUCATION_STAFF) and order is not None:
            deadline = session.starts_at - timedelta(hours=settings.EDUCATION_CANCELLATION_HOURS)
            if now > deadline:
                raise ConflictError(
                    _("Paid enrollments can be cancelled until %(hours)d hours before the session.")
                    % {"hours": settings.EDUCATION_CANCELLATION_HOURS},
                    code=errors.CANCELLATION_DEADLINE,
                )
        if session.starts_at <= now:
            raise ConflictError(
                _("This session has already taken place."), code=errors.SESSION_DONE
            )
        active = list(enrollment.participants.filter(cancelled_at__isnull=True).order_by("id"))
        if participant_ids:
            wanted = set(participant_ids)
            unknown = wanted - {person.pk for person in active}
            if unknown:
                raise ServiceError(
                    _("Participants %(ids)s are not enrolled here.")
                    % {"ids": ", ".join(str(pk) for pk in sorted(unknown))},
                    code=errors.UNKNOWN_PARTICIPANT,
                    field="participants",
                )
            leaving = [person for person in active if person.pk in wanted]
        else:
            leaving = active
        Participant.objects.filter(pk__in=[person.pk for person in leaving]).update(
            cancelled_at=now
        )
        unseat(session, len(leaving))
        enrollment.seats -= len(leaving)
        previous = enrollment.status
        if enrollment.seats == 0:
            transition(enrollment, EnrollmentStatus.CANCELLED)
            enrollment.cancelled_at = now
            enrollment.cancel_reason = (reason or "cancelled")[:200]
        enrollment.save(
            update_fields=["seats", "status", "cancelled_at", "cancel_reason", "updated_at"]
        )
        if order is not None and enrollment.order_line is not None:
            refund = payments.refund_items_open(
                order=order,
                items=[(enrollment.order_line, len(leaving))],
                actor=actor,
                reason=reason or "enrollment cancelled",
            )
        settle_waitlist(session, now)
        _audit(
            "cancelled" if enrollment.seats == 0 else "participants_cancelled",
            actor,
            enrollment,
            previous=previous,
            participants=[person.pk for person in leaving],
            refund=str(refund.amount) if refund else None,
            reason=reason,
        )
    if refund is not None:
        payments.refund_send(refund=refund)
    enrollment.refresh_from_db()
    return enrollment
