"""What the scheduler runs (education tasks): none of it is needed for the seats to be right,
which the clock and the session lock keep. It passes unanswered offers on and sends their
emails without waiting for a visitor's request, finishes cancelled sessions' refunds, sends
the reminders of the day before and tells staff of sessions below their minimum."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import OperationalError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.support.common.errors import ConflictError
from apps.support.common.locking import is_lock_failure, lock_row_if_free
from apps.support.common.services import email_send_on_commit
from apps.support.security.models import User
from apps.support.security.roles import Role

from ..models import Enrollment, EnrollmentStatus, Session, SessionStatus
from ..selectors import sessions_below_minimum
from .seats import session_label, settle_waitlist
from .sessions import session_finish_cancellation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettleRun:
    offered: int
    skipped: int  # sessions in use right now: taken next run
    cancellations_finished: int


def waitlists_settle(*, now: datetime | None = None) -> SettleRun:
    now = now or timezone.now()
    waiting = Enrollment.objects.filter(session=OuterRef("pk")).filter(
        Q(status=EnrollmentStatus.WAITLISTED)
        | Q(status=EnrollmentStatus.OFFERED, offer_expires_at__lte=now)
    )
    offered = skipped = 0
    for session_id in (
        Session.objects.filter(status=SessionStatus.SCHEDULED, enrollment_deadline__gt=now)
        .filter(Exists(waiting))
        .values_list("pk", flat=True)
    ):
        try:
            with transaction.atomic():
                session = lock_row_if_free(Session.objects.filter(pk=session_id))
                if session is None:
                    skipped += 1
                    continue
                offered += len(settle_waitlist(session, timezone.now()))
        except OperationalError as error:
            if not is_lock_failure(error):
                raise
            skipped += 1
    finished = 0
    unfinished = Enrollment.objects.filter(
        session=OuterRef("pk"),
        status__in=(EnrollmentStatus.PENDING_PAYMENT, EnrollmentStatus.CONFIRMED),
        order__isnull=False,
    )
    for session in Session.objects.filter(status=SessionStatus.CANCELLED).filter(
        Exists(unfinished)
    ):
        try:
            finished += session_finish_cancellation(session=session)
        except ConflictError:
            skipped += 1
    return SettleRun(offered=offered, skipped=skipped, cancellations_finished=finished)


def reminders_send(*, now: datetime | None = None) -> int:
    """Claim and queue the reminders of tomorrow's sessions (the park's dates), each once:
    the claim is a conditional update, so two runs never send one twice."""
    from ..tasks import send_enrollment_reminder

    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    due = Enrollment.objects.filter(
        session__status=SessionStatus.SCHEDULED,
        session__starts_at__date=tomorrow,
        status=EnrollmentStatus.CONFIRMED,
        reminder_sent_at__isnull=True,
    ).values_list("pk", flat=True)
    queued = 0
    for enrollment_id in list(due):
        with transaction.atomic():
            claimed = Enrollment.objects.filter(
                pk=enrollment_id, reminder_sent_at__isnull=True
            ).update(reminder_sent_at=now)
            if claimed:
                transaction.on_commit(
                    lambda pk=enrollment_id: send_enrollment_reminder.delay(pk)  # type: ignore[misc]
                )
                queued += 1
    return queued


def minimums_check(*, now: datetime | None = None, alert: bool = True) -> list[Session]:
    """Sessions whose enrolment closed below the program's minimum, for staff to decide
    (run or cancel). With ``alert``, educators are emailed once per session."""
    now = now or timezone.now()
    sessions = list(sessions_below_minimum(now=now))
    if not alert:
        return sessions
    educators = list(
        User.objects.filter(groups__name=Role.EDUCATOR, is_active=True)
        .values_list("email", flat=True)
        .distinct()
    )
    for session in sessions:
        with transaction.atomic():
            claimed = Session.objects.filter(pk=session.pk, minimum_alerted_at__isnull=True).update(
                minimum_alerted_at=now
            )
            if claimed and educators:
                email_send_on_commit(
                    subject=_("Below the minimum: %(session)s")
                    % {"session": session_label(session)},
                    body=_(
                        "%(session)s has %(confirmed)d confirmed participants; the program asks "
                        "for %(minimum)d. Enrolment is closed: decide whether it runs, or cancel "
                        "it (POST /api/v1/education/sessions/%(id)d/cancel/)."
                    )
                    % {
                        "session": session_label(session),
                        "confirmed": session.confirmed,
                        "minimum": session.program.min_participants,
                        "id": session.pk,
                    },
                    to=educators,
                )
    return sessions
