"""A payment attempt whose call died between recording the attempt and recording the gateway's
answer (the instance was killed mid-call) is not stuck for ever: past
``PAYMENTS_ATTEMPT_ABANDONED_SECONDS`` the next pay, or the housekeeping job, asks the gateway
again under the attempt's own key, so the buyer is charged once and the order is paid."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.business.payments import services as payments
from apps.business.payments.models import OrderStatus, Payment, PaymentStatus
from apps.business.tickets.models import Ticket
from apps.integrations.models import SandboxLedgerEntry
from apps.integrations.payments.sandbox import SandboxGateway
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.helpers import client_for, staff_member
from tests.sales import place_order

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


class Killed(BaseException):
    """The process dying: nothing after it runs, no except clause catches it."""


def die_after_the_gateway(monkeypatch) -> None:
    """The gateway takes the money, then the process dies before the answer is recorded."""
    start = SandboxGateway.start_payment

    def charged_then_killed(self, request):
        start(self, request)
        raise Killed

    monkeypatch.setattr(SandboxGateway, "start_payment", charged_then_killed)


def die_before_the_gateway(monkeypatch) -> None:
    def killed(self, request):
        raise Killed

    monkeypatch.setattr(SandboxGateway, "start_payment", killed)


def age(payment: Payment, seconds: int) -> None:
    Payment.objects.filter(pk=payment.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def killed_attempt(user, order, monkeypatch, *, charged: bool = True) -> Payment:
    with monkeypatch.context() as patched:
        (die_after_the_gateway if charged else die_before_the_gateway)(patched)
        with pytest.raises(Killed):
            payments.order_pay(order=order, actor=user, method="sandbox")
    (attempt,) = Payment.objects.filter(order=order)
    assert (attempt.status, attempt.gateway_outcome) == (PaymentStatus.PENDING, "")
    return attempt


def charges(attempt: Payment) -> int:
    key = f"payment-{attempt.order.code}-{attempt.pk}"
    return SandboxLedgerEntry.objects.filter(idempotency_key=key).count()


def test_while_the_call_may_still_be_waiting_pay_answers_in_progress_and_changes_nothing(
    user, slot, adult, monkeypatch, settings
):
    order = place_order(user, slot, adult)
    attempt = killed_attempt(user, order, monkeypatch)
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS - 5)
    entries = AuditEvent.objects.count()

    answer = client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"})

    assert answer.status_code == 409
    assert answer.json()["code"] == "payment_in_progress"
    assert answer.headers["Retry-After"] == "5"
    attempt.refresh_from_db()
    assert (attempt.status, attempt.gateway_outcome) == (PaymentStatus.PENDING, "")
    assert Payment.objects.filter(order=order).count() == 1
    assert charges(attempt) == 1
    assert AuditEvent.objects.count() == entries


def test_past_the_window_pay_settles_the_attempt_the_gateway_charged_without_charging_again(
    user, slot, adult, monkeypatch, settings
):
    order = place_order(user, slot, adult)
    attempt = killed_attempt(user, order, monkeypatch)
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

    answer = client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"})

    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "paid"
    assert [(p["id"], p["status"]) for p in answer.json()["payments"]] == [
        (attempt.pk, "succeeded")
    ]
    assert charges(attempt) == 1
    assert Ticket.objects.filter(order=order).count() == 1
    resumed = AuditEvent.objects.filter(action="payments.payment.resumed")
    assert list(resumed.values_list("target_id", flat=True)) == [str(attempt.pk)]


def test_an_attempt_that_died_before_the_gateway_heard_of_it_is_charged_once(
    user, slot, adult, monkeypatch, settings
):
    order = place_order(user, slot, adult)
    attempt = killed_attempt(user, order, monkeypatch, charged=False)
    assert charges(attempt) == 0
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

    answer = client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"})

    assert answer.status_code == 200
    assert [p["id"] for p in answer.json()["payments"]] == [attempt.pk]
    assert charges(attempt) == 1


def test_the_job_settles_attempts_nobody_came_back_to_and_leaves_recent_ones(
    user, slot, adult, monkeypatch, settings
):
    forgotten_order = place_order(user, slot, adult)
    forgotten = killed_attempt(user, forgotten_order, monkeypatch)
    age(forgotten, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
    recent_order = place_order(user, slot, adult)
    recent = killed_attempt(user, recent_order, monkeypatch)

    assert payments.payments_resume_interrupted() == 1
    assert payments.payments_resume_interrupted() == 0

    forgotten_order.refresh_from_db()
    recent_order.refresh_from_db()
    assert forgotten_order.status == OrderStatus.PAID
    assert Payment.objects.get(pk=forgotten.pk).status == PaymentStatus.SUCCEEDED
    assert charges(forgotten) == 1
    assert recent_order.status == OrderStatus.PENDING
    recent_now = Payment.objects.get(pk=recent.pk)
    assert (recent_now.status, recent_now.gateway_outcome) == (PaymentStatus.PENDING, "")
    assert recent_now.updated_at == recent.updated_at


def test_a_counter_attempt_that_died_is_failed_and_the_cash_recorded_anew(
    slot, adult, monkeypatch, settings
):
    cashier = staff_member(Role.TICKET_OFFICE)
    order = place_order(cashier, slot, adult)

    def killed(**kwargs):
        raise Killed

    with monkeypatch.context() as patched:
        # Dies once the attempt is committed, before the till's answer is recorded.
        patched.setattr("apps.business.payments.services.payments._payment_start", killed)
        with pytest.raises(Killed):
            payments.order_pay(order=order, actor=cashier, method="cash")
    (dead,) = Payment.objects.filter(order=order)
    age(dead, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

    answer = client_for(cashier).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "cash"})

    assert answer.status_code == 200, answer.json()
    assert sorted(
        Payment.objects.filter(order=order).values_list("pk", "status", "failure_code")
    ) == [(dead.pk, "failed", "interrupted"), (dead.pk + 1, "succeeded", "")]
    assert Ticket.objects.filter(order=order).count() == 1
