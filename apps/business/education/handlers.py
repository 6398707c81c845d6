"""Enrollments as an item that payments sells: ``kind = "enrollment"`` (registered in apps.py).

Line fields, either a new enrollment — ``session`` (id), ``participants`` (a list of ``name``,
``age`` or ``birth_date``, ``role``, ``needs``), optional ``notes`` and ``school_name``; the line's
quantity is the number of participants — or ``enrollment`` (id): a waitlisted enrollment
accepting the seats it was offered. Seats are taken under the session's row lock (services/
seats.py), after the waitlist was given what it is owed. Participants' names never stay on
the order line: once the enrollment exists, the line refers to it by id.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.business.payments.handlers import LineRequest, PricedLine
from apps.business.payments.models import Order, OrderLine
from apps.support.common.errors import ConflictError, NotFoundError, ServiceError

from . import errors
from .models import (
    SEATED_STATUSES,
    Enrollment,
    EnrollmentStatus,
    Participant,
    Session,
    SessionStatus,
)
from .services.participants import checked_participants
from .services.seats import (
    LINE_KIND,
    ensure_open,
    free_seats,
    lock_sessions,
    offer_gone,
    seat,
    session_full,
    session_label,
    settle_waitlist,
    transition,
    unseat,
)

KIND = LINE_KIND


def _field_id(line: LineRequest, name: str) -> int:
    value = line.fields.get(name)
    if value is None:
        raise ServiceError(
            _("This field is required."),
            code="line_field_required",
            field=f"lines.{line.index}.{name}",
        )
    return int(value)


def _ensure_sold(session: Session, *, field: str) -> None:
    if session.program.is_free:
        raise ServiceError(
            _("%(program)s is free: enrol at /api/v1/education/enrollments/.")
            % {"program": session.program.title},
            code=errors.SESSION_IS_FREE,
            field=field,
        )


class EnrollmentHandler:
    kind = KIND
    tax_exempt = False
    guest_allowed = False
    money_only_refunds = True

    def price(
        self, *, lines: Sequence[LineRequest], channel: str, now: datetime
    ) -> list[PricedLine]:
        priced = []
        for line in lines:
            prefix = f"lines.{line.index}"
            reference: dict[str, Any]
            if "enrollment" in line.fields:
                enrollment = (
                    Enrollment.objects.select_related("session__program")
                    .filter(pk=_field_id(line, "enrollment"))
                    .first()
                )
                if enrollment is None:
                    raise NotFoundError(
                        _("There is no such enrollment."), field=f"{prefix}.enrollment"
                    )
                # Whose it is and whether its offer stands: checked by ``hold``, which knows
                # the buyer (someone else's enrollment is not found, whatever its state).
                session, quantity = enrollment.session, enrollment.seats
                reference = {"session": session.pk, "enrollment": enrollment.pk}
            else:
                found = (
                    Session.objects.select_related("program")
                    .filter(pk=_field_id(line, "session"))
                    .first()
                )
                if found is None or not found.program.is_public:
                    raise ServiceError(
                        _("There is no such session."),
                        code=errors.SESSION_NOT_FOUND,
                        field=f"{prefix}.session",
                    )
                session = found
                people = checked_participants(
                    session=session,
                    participants=line.fields.get("participants") or [],
                    field=f"{prefix}.participants",
                )
                if line.quantity != len(people):
                    raise ServiceError(
                        _("The quantity of an enrollment line is its number of participants."),
                        code=errors.QUANTITY_MISMATCH,
                        field=f"{prefix}.quantity",
                    )
                quantity = len(people)
                reference = {
                    "session": session.pk,
                    "participants": [person.as_dict() for person in people],
                    "notes": line.fields.get("notes") or "",
                    "school_name": line.fields.get("school_name") or "",
                }
                ensure_open(session, now)
                _ensure_sold(session, field=f"{prefix}.session")
            priced.append(
                PricedLine(
                    kind=KIND,
                    description=session_label(session)[:200],
                    unit_price=session.program.price,
                    currency=session.program.currency,
                    quantity=quantity,
                    reference=reference,
                )
            )
        return priced

    def hold(self, *, order: Order, lines: Sequence[OrderLine]) -> None:
        # Someone else's enrollment is not found, whatever state it or its session is in.
        offers = {
            enrollment.pk: enrollment
            for enrollment in Enrollment.objects.filter(
                pk__in=[ln.reference["enrollment"] for ln in lines if "enrollment" in ln.reference]
            )
        }
        for enrollment in offers.values():
            if order.user is not None and enrollment.user_id != order.user_id:
                raise NotFoundError(
                    _("There is no such enrollment."), code=errors.NOT_YOUR_ENROLLMENT
                )
        sessions = lock_sessions([line.reference["session"] for line in lines])
        now = timezone.now()  # after the lock: holds and offers that ran out count as free
        for session in sessions.values():
            ensure_open(session, now)
            _ensure_sold(session, field="lines")
            settle_waitlist(session, now)  # the queue first
        for line in lines:
            session = sessions[line.reference["session"]]
            if "enrollment" in line.reference:
                self._hold_offer(order=order, line=line, session=session, now=now)
                continue
            free = free_seats(session, now)
            if line.quantity > free:
                raise session_full(session, free)
            enrollment = Enrollment.objects.create(
                session=session,
                user=order.user,
                email=order.email,
                status=EnrollmentStatus.PENDING_PAYMENT,
                seats=line.quantity,
                school_name=line.reference.get("school_name", "")[:160],
                notes=line.reference.get("notes", ""),
                order=order,
                order_line=line,
                hold_expires_at=order.expires_at,
                created_by=order.created_by,  # type: ignore[misc]  # never a guest's order
            )
            Participant.objects.bulk_create(
                [
                    Participant(
                        enrollment=enrollment,
                        name=person["name"],
                        age=person["age"],
                        birth_date=person["birth_date"],
                        role=person["role"],
                        needs=person["needs"],
                    )
                    for person in line.reference["participants"]
                ]
            )
            line.reference = {"session": session.pk, "enrollment": enrollment.pk}
            line.save(update_fields=["reference"])

    def _hold_offer(
        self, *, order: Order, line: OrderLine, session: Session, now: datetime
    ) -> None:
        enrollment = Enrollment.objects.get(pk=line.reference["enrollment"])  # after the lock
        if enrollment.status != EnrollmentStatus.OFFERED:
            raise offer_gone(enrollment)
        transition(enrollment, EnrollmentStatus.PENDING_PAYMENT)
        enrollment.order = order
        enrollment.order_line = line
        enrollment.hold_expires_at = order.expires_at
        enrollment.save(
            update_fields=["status", "order", "order_line", "hold_expires_at", "updated_at"]
        )

    def paid(self, *, order: Order) -> None:
        waiting = list(Enrollment.objects.filter(order=order).exclude(status__in=SEATED_STATUSES))
        if not waiting:
            return
        sessions = lock_sessions([enrollment.session_id for enrollment in waiting])
        now = timezone.now()
        confirmed = []
        for enrollment in Enrollment.objects.filter(pk__in=[e.pk for e in waiting]).order_by(
            "session_id", "id"
        ):
            session = sessions[enrollment.session_id]
            if enrollment.status != EnrollmentStatus.PENDING_PAYMENT:
                # Cancelled meanwhile (its hold released, the session called off): the
                # payment is refunded instead.
                raise ConflictError(
                    _("The enrollment in %(session)s was cancelled before it was paid.")
                    % {"session": session_label(session)},
                    code=errors.SESSION_CANCELLED
                    if session.status == SessionStatus.CANCELLED
                    else errors.INVALID_TRANSITION,
                )
            if session.status != SessionStatus.SCHEDULED or session.starts_at <= now:
                raise ConflictError(
                    _("%(session)s no longer takes place.") % {"session": session_label(session)},
                    code=errors.SESSION_CANCELLED
                    if session.status == SessionStatus.CANCELLED
                    else errors.SESSION_DONE,
                )
            if enrollment.hold_expires_at is None or enrollment.hold_expires_at <= now:
                # The hold ran out before the bank confirmed: the seats again, if still free
                # once the waitlist had its turn.
                settle_waitlist(session, now)
                free = free_seats(session, now)
                if enrollment.seats > free:
                    raise session_full(session, free)
            transition(enrollment, EnrollmentStatus.CONFIRMED)
            enrollment.save(update_fields=["status", "updated_at"])
            seat(session, enrollment.seats)
            confirmed.append(enrollment)
        if confirmed:
            from .tasks import send_enrollment_confirmation

            ids = [enrollment.pk for enrollment in confirmed]

            def send() -> None:
                for pk in ids:
                    send_enrollment_confirmation.delay(pk)

            transaction.on_commit(send)

    def released(self, *, order: Order, reason: str) -> None:
        """The order expired unpaid or was cancelled: its enrollments end, their seats go to
        the waitlist."""
        enrollments = list(
            Enrollment.objects.filter(
                order=order,
                status__in=(EnrollmentStatus.PENDING_PAYMENT, EnrollmentStatus.CONFIRMED),
            )
        )
        if not enrollments:
            return
        sessions = lock_sessions([enrollment.session_id for enrollment in enrollments])
        now = timezone.now()
        for enrollment in Enrollment.objects.filter(
            pk__in=[e.pk for e in enrollments],
            status__in=(EnrollmentStatus.PENDING_PAYMENT, EnrollmentStatus.CONFIRMED),
        ).order_by("session_id", "id"):
            if enrollment.status == EnrollmentStatus.CONFIRMED:
                unseat(sessions[enrollment.session_id], enrollment.seats)
            transition(enrollment, EnrollmentStatus.CANCELLED)
            enrollment.cancelled_at = now
            enrollment.cancel_reason = "order expired" if reason == "expired" else "order cancelled"
            enrollment.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
        for session in sessions.values():
            settle_waitlist(session, now)

    def refunded(self, *, order: Order, lines: Sequence[tuple[OrderLine, int]]) -> None:
        """Finance (or an education cancellation) refunded ``quantity`` participants of each
        line. Participants an educator already cancelled for this refund are marked settled;
        for the rest, the newest participants still enrolled are cancelled and their seats
        go to the waitlist. Those who attended keep their seat: it was delivered."""
        now = timezone.now()
        wanted: dict[int, int] = defaultdict(int)
        for line, quantity in lines:
            wanted[line.pk] += quantity
        enrollments = list(Enrollment.objects.filter(order=order, order_line_id__in=wanted))
        if not enrollments:
            return
        sessions = lock_sessions([enrollment.session_id for enrollment in enrollments])
        for enrollment in Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]).order_by(
            "session_id", "id"
        ):
            quantity = wanted[enrollment.order_line_id]  # type: ignore[index]
            settled = list(
                enrollment.participants.filter(
                    cancelled_at__isnull=False, refund_settled=False
                ).values_list("pk", flat=True)[:quantity]
            )
            Participant.objects.filter(pk__in=settled).update(refund_settled=True)
            rest = quantity - len(settled)
            if rest <= 0 or enrollment.status != EnrollmentStatus.CONFIRMED:
                continue
            taken_back = list(
                enrollment.participants.filter(cancelled_at__isnull=True)
                .order_by("-id")
                .values_list("pk", flat=True)[:rest]
            )
            Participant.objects.filter(pk__in=taken_back).update(
                cancelled_at=now, refund_settled=True
            )
            unseat(sessions[enrollment.session_id], len(taken_back))
            enrollment.seats -= len(taken_back)
            if enrollment.seats == 0:
                transition(enrollment, EnrollmentStatus.CANCELLED)
                enrollment.cancelled_at = now
                enrollment.cancel_reason = "refunded"
            enrollment.save(
                update_fields=["seats", "status", "cancelled_at", "cancel_reason", "updated_at"]
            )
        for session in sessions.values():
            settle_waitlist(session, now)

    def check_cancellable(self, *, order: Order, now: datetime, by_staff: bool) -> None:
        enrollments = list(Enrollment.objects.filter(order=order).select_related("session"))
        if any(
            e.status in (EnrollmentStatus.ATTENDED, EnrollmentStatus.NO_SHOW) for e in enrollments
        ):
            raise ConflictError(
                _("The session of this order has taken place."), code=errors.SESSION_DONE
            )
        if by_staff or not enrollments:
            return
        first = min(enrollment.session.starts_at for enrollment in enrollments)
        if now > first - timedelta(hours=settings.EDUCATION_CANCELLATION_HOURS):
            raise ConflictError(
                _("Paid enrollments can be cancelled until %(hours)d hours before the session.")
                % {"hours": settings.EDUCATION_CANCELLATION_HOURS},
                code=errors.CANCELLATION_DEADLINE,
            )
