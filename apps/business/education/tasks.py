"""Background work of the education module."""

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from .calendar import session_ics
from .models import Enrollment, EnrollmentStatus
from .services.housekeeping import minimums_check, reminders_send, waitlists_settle
from .services.seats import session_label

logger = logging.getLogger(__name__)


def _confirmed(enrollment_id: int) -> Enrollment | None:
    """The enrollment read afresh, if still confirmed (a cancelled one is written nothing)."""
    return (
        Enrollment.objects.select_related(
            "session__program", "session__section", "session__habitat"
        )
        .filter(pk=enrollment_id, status=EnrollmentStatus.CONFIRMED)
        .first()
    )


def _who(enrollment: Enrollment) -> str:
    names = [p.name for p in enrollment.participants.all() if p.cancelled_at is None]
    return ", ".join(names)


@shared_task(
    name="education.send_enrollment_confirmation",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def send_enrollment_confirmation(enrollment_id: int) -> int:
    """Tell the visitor the seats are theirs. Reads the enrollment afresh: a cancelled one
    sends nothing."""
    enrollment = _confirmed(enrollment_id)
    if enrollment is None:
        return 0
    session = enrollment.session
    body = "\n".join(
        [
            _("You are enrolled in %(session)s.") % {"session": session_label(session)},
            _("Place: %(place)s.") % {"place": session.place},
            _("Participants: %(names)s.") % {"names": _who(enrollment)},
            "",
            _("Enrollment %(id)d. We send a reminder the day before.") % {"id": enrollment.pk},
        ]
    )
    message = EmailMessage(
        subject=_("Enrolled: %(session)s") % {"session": session_label(session)},
        body=body,
        to=[enrollment.email],
        from_email=settings.DEFAULT_FROM_EMAIL,
    )
    return message.send()


@shared_task(
    name="education.send_enrollment_reminder",
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=6,
)
def send_enrollment_reminder(enrollment_id: int) -> int:
    """The reminder of tomorrow's session, with the session as a calendar file (.ics)."""
    enrollment = _confirmed(enrollment_id)
    if enrollment is None:
        return 0
    session = enrollment.session
    start = formats.date_format(timezone.localtime(session.starts_at), "DATETIME_FORMAT")
    body = "\n".join(
        [
            _("Tomorrow: %(program)s, at %(start)s, %(place)s.")
            % {"program": session.program.title, "start": start, "place": session.place},
            _("Participants: %(names)s.") % {"names": _who(enrollment)},
            _("Please arrive 15 minutes early. The session is attached for your calendar."),
        ]
    )
    message = EmailMessage(
        subject=_("Reminder: %(session)s") % {"session": session_label(session)},
        body=body,
        to=[enrollment.email],
        from_email=settings.DEFAULT_FROM_EMAIL,
    )
    message.attach(
        f"session-{session.pk}.ics",
        session_ics(session, now=timezone.now(), description=body),
        "text/calendar",
    )
    sent = message.send()
    logger.info("Sent the reminder of enrollment %s", enrollment.pk)
    return sent


@shared_task(name="education.settle_waitlists")
def settle_waitlists() -> dict[str, int]:
    """Pass unanswered offers on and email new ones; finish cancelled sessions' refunds."""
    run = waitlists_settle()
    return {
        "offered": run.offered,
        "skipped": run.skipped,
        "cancellations_finished": run.cancellations_finished,
    }


@shared_task(name="education.send_reminders")
def send_reminders() -> int:
    return reminders_send()


@shared_task(name="education.check_minimums")
def check_minimums() -> int:
    return len(minimums_check())
