"""Cancelling a session for everyone, reminders with a calendar file, sessions below their
minimum, and the scheduler finishing what a cancellation left."""

from datetime import UTC, timedelta
from decimal import Decimal
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.business.education import services
from apps.business.education.models import Enrollment, Session
from apps.business.education.services import sessions as session_services
from apps.business.education.services.housekeeping import (
    minimums_check,
    reminders_send,
    waitlists_settle,
)
from apps.business.payments.models import Order, Refund
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import ProgramFactory, SessionFactory, UserFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db


def enrol(session, count, email, **extra):
    return services.enrollment_create(
        actor=UserFactory(email=email),
        session=session,
        participants=[{"name": f"P{n}", "age": 10} for n in range(count)],
        **extra,
    )


def pay(enrollment):
    answer = client_for(enrollment.user).post(
        f"/api/v1/payments/orders/{enrollment.order_id}/pay/",
        {"gateway": "sandbox"},
        format="json",
    )
    assert answer.status_code == 200, answer.json()


def test_cancelling_a_session_cancels_refunds_and_tells_everyone(
    django_capture_on_commit_callbacks, mailoutbox
):
    session = SessionFactory(program=ProgramFactory(price=Decimal("3000.00")), capacity=4)
    paid = enrol(session, 3, "pagado@example.org")
    pay(paid)
    unpaid = enrol(session, 1, "sinpagar@example.org")
    waiting = enrol(session, 2, "espera@example.org", waitlist=True)
    mailoutbox.clear()
    educator = client_for(staff_member(Role.EDUCATOR))
    with django_capture_on_commit_callbacks(execute=True):
        answer = educator.post(
            f"/api/v1/education/sessions/{session.pk}/cancel/", {"reason": "tormenta tropical"}
        )
    assert answer.status_code == 200, answer.json()
    assert (answer.json()["status"], answer.json()["confirmed"]) == ("cancelled", 0)
    assert {
        e.email: (e.status, e.cancel_reason) for e in Enrollment.objects.filter(session=session)
    } == {
        "pagado@example.org": ("cancelled", "session cancelled"),
        "sinpagar@example.org": ("cancelled", "order cancelled"),
        "espera@example.org": ("cancelled", "session cancelled"),
    }
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (Decimal("9000.00"), "succeeded")
    assert Order.objects.get(pk=unpaid.order_id).status == "canceled"
    cancelled_mails = [m.to[0] for m in mailoutbox if "tormenta tropical" in m.body]
    assert sorted(cancelled_mails) == [
        "espera@example.org",
        "pagado@example.org",
        "sinpagar@example.org",
    ]
    assert AuditEvent.objects.filter(
        action="education.session.cancelled", target_id=str(session.pk)
    ).exists()
    again = educator.post(f"/api/v1/education/sessions/{session.pk}/cancel/", {"reason": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "session_not_scheduled")
    assert waiting.pk


def test_the_scheduler_finishes_a_cancellation_cut_short():
    session = SessionFactory(program=ProgramFactory(price=Decimal("3000.00")))
    paid = enrol(session, 2, "pagado@example.org")
    pay(paid)
    with mock.patch.object(session_services, "session_finish_cancellation", return_value=0):
        services.session_cancel(actor=staff_member(Role.EDUCATOR), session=session, reason="x")
    assert Enrollment.objects.get(pk=paid.pk).status == "confirmed"  # the process died here
    assert Refund.objects.count() == 0
    run = waitlists_settle()
    assert run.cancellations_finished == 1
    assert Enrollment.objects.get(pk=paid.pk).status == "cancelled"
    assert Refund.objects.get().amount == Decimal("6000.00")
    assert waitlists_settle().cancellations_finished == 0


def test_reminders_go_once_the_day_before_with_a_calendar_file(
    django_capture_on_commit_callbacks, mailoutbox
):
    tomorrow = timezone.localtime() + timedelta(days=1)
    starts = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
    session = SessionFactory(
        program=ProgramFactory(price=Decimal("0.00"), title_es="Cuidador por un día"),
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        enrollment_deadline=timezone.now() + timedelta(hours=1),
    )
    SessionFactory(program=session.program)  # next week: not yet
    enrol(session, 2, "familia@example.org")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send() == 0
    (message,) = mailoutbox
    assert message.to == ["familia@example.org"]
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == (f"session-{session.pk}.ics", "text/calendar")
    text = content.decode() if isinstance(content, bytes) else content
    assert "BEGIN:VEVENT" in text
    assert f"DTSTART:{starts.astimezone(UTC):%Y%m%dT%H%M%SZ}" in text
    assert "SUMMARY:Cuidador por un día" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_sessions_below_their_minimum_at_the_deadline(
    django_capture_on_commit_callbacks, mailoutbox
):
    staff_member(Role.EDUCATOR, email="educacion@parquemarino.test")
    program = ProgramFactory(price=Decimal("0.00"), min_participants=5)
    short = SessionFactory(program=program)
    enrol(short, 2, "uno@example.org")
    fine = SessionFactory(program=program)
    enrol(fine, 5, "cinco@example.org")
    open_still = SessionFactory(program=program)  # enrolment still open: not yet
    Session.objects.filter(pk__in=[short.pk, fine.pk]).update(
        enrollment_deadline=timezone.now() - timedelta(minutes=1)
    )
    mailoutbox.clear()
    output = StringIO()
    call_command("education_check_minimums", stdout=output)
    assert output.getvalue().splitlines()[-1] == "1 sessions below their minimum."
    assert output.getvalue().startswith(f"{short.pk}\t")
    assert mailoutbox == []  # the command only lists, unless --alert
    with django_capture_on_commit_callbacks(execute=True):
        assert [s.pk for s in minimums_check()] == [short.pk]
    with django_capture_on_commit_callbacks(execute=True):
        minimums_check()
    assert [m.to for m in mailoutbox] == [["educacion@parquemarino.test"]]
    assert open_still.pk not in [s.pk for s in minimums_check(alert=False)]


def test_the_cron_command_does_what_the_tasks_do():
    output = StringIO()
    call_command("education_housekeeping", stdout=output)
    assert output.getvalue().strip() == (
        "0 offers made, 0 cancelled enrollments refunded, 0 skipped (in use, taken next run), "
        "0 reminders queued."
    )
