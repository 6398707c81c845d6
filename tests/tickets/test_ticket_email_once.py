"""An order's tickets are emailed once, however many times the task runs: run twice, queued
twice, delivered again after a worker died (with a real worker: tests/test_celery_redelivery.py)."""

from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone

from apps.business.tickets.tasks import send_order_tickets
from apps.support.common import deliveries
from apps.support.common.deliveries import DeliveryInProgress, send_once
from apps.support.common.models import DeliveryStatus, EmailDelivery
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.sales import paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order():
    return paid_order(UserFactory(), TimeSlotFactory(capacity=5), TicketTypeFactory(), 2)


def test_the_task_run_twice_sends_the_tickets_once(order):
    assert send_order_tickets.apply(args=[order.pk]).get() == 1
    assert send_order_tickets.apply(args=[order.pk]).get() == 0
    assert [message.to for message in mail.outbox] == [[order.email]]
    delivery = EmailDelivery.objects.get()
    assert (delivery.key, delivery.status, delivery.attempts) == (
        f"tickets.order.{order.pk}",
        DeliveryStatus.SENT,
        1,
    )
    assert delivery.sent_at is not None
    assert delivery.claimed_until is None


def message() -> EmailMessage:
    return EmailMessage(subject="Entradas", body="…", to=["ana@example.org"])


def test_a_claim_of_a_live_worker_is_left_alone_until_its_lease_ends(settings):
    settings.EMAIL_DELIVERY_LEASE_SECONDS = 300
    now = timezone.now()
    EmailDelivery.objects.create(key="k", attempts=1, claimed_until=now + timedelta(seconds=120))
    with pytest.raises(DeliveryInProgress) as busy:
        send_once("k", message())
    assert 110 < busy.value.retry_after <= 120
    assert mail.outbox == []
    assert EmailDelivery.objects.get().attempts == 1  # nothing taken over


def test_the_claim_of_a_worker_that_died_is_taken_over_and_the_email_sent():
    EmailDelivery.objects.create(
        key="k", attempts=1, claimed_until=timezone.now() - timedelta(seconds=1)
    )
    assert send_once("k", message()) == 1
    assert len(mail.outbox) == 1
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)


def test_a_mail_server_that_fails_releases_the_claim_for_the_retry(monkeypatch):
    def refuse(self):
        raise SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    with pytest.raises(SMTPServerDisconnected):
        send_once("k", message())
    delivery = EmailDelivery.objects.get()
    assert (delivery.status, delivery.claimed_until) == (DeliveryStatus.SENDING, None)
    monkeypatch.undo()
    assert send_once("k", message()) == 1  # the retry sends at once, no lease to wait for
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.get().attempts == 2


def test_control_without_the_claim_the_task_run_twice_sends_twice(order, monkeypatch):
    """The check above can fail: sending straight away, as the task did before, doubles."""
    monkeypatch.setattr(
        "apps.business.tickets.tasks.send_once", lambda key, message: message.send()
    )
    send_order_tickets.apply(args=[order.pk]).get()
    send_order_tickets.apply(args=[order.pk]).get()
    assert len(mail.outbox) == 2
    assert deliveries.EmailDelivery.objects.count() == 0
