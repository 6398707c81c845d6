"""The park's metrics on /metrics: sales, check-ins, orders, payments, refunds and webhook
deliveries read from the records at each scrape, busy answers counted as they happen, and a
scrape that never fails because the database does not answer."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from apps.business.payments import selectors as payment_selectors
from apps.business.payments.models import WebhookEvent, WebhookStatus
from apps.business.tickets import handlers
from apps.business.tickets.models import Ticket
from apps.business.tickets.services import ticket_check_in
from apps.business.tickets.signing import ticket_code
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.factories import TimeSlotFactory
from tests.helpers import client_for, staff_member
from tests.sales import paid_order, place_order

pytestmark = pytest.mark.django_db
ORDERS = "/api/v1/payments/orders/"


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = "metrics-token-for-tests"
    settings.METRICS_ALLOWED_IPS = []

    def scrape() -> dict[tuple[str, tuple], float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-for-tests")
        assert response.status_code == 200
        samples = {}
        for family in text_string_to_metric_families(response.content.decode()):
            if family.name.startswith("parque_"):
                for sample in family.samples:
                    samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    return scrape


def park(samples, prefix):
    return {key: value for key, value in samples.items() if key[0].startswith(prefix)}


def test_sales_check_ins_and_deliveries_are_read_from_the_records(scrape, user, slot, adult):
    paid = paid_order(user, slot, adult, 3)
    place_order(user, slot, adult, 1)  # waiting for payment: no ticket yet
    gate = staff_member(Role.GATE_STAFF)
    tickets = list(Ticket.objects.filter(order=paid).order_by("id"))
    for ticket, where in zip(tickets[:2], ["Norte", "Sur"], strict=True):
        ticket_check_in(code=ticket_code(ticket.secret), gate=where, actor=gate)
    WebhookEvent.objects.create(
        gateway="stripe", event_id="evt_1", event_type="x", body="{}", status=WebhookStatus.FAILED
    )

    samples = scrape()

    assert park(samples, "parque_tickets_sold") == {
        ("parque_tickets_sold_total", (("channel", "online"),)): 3.0
    }
    assert {key: value for key, value in samples.items() if key[0] == "parque_tickets"} == {
        ("parque_tickets", (("channel", "online"), ("status", "valid"))): 3.0
    }
    assert park(samples, "parque_check_ins") == {
        ("parque_check_ins_total", (("gate", "Norte"),)): 1.0,
        ("parque_check_ins_total", (("gate", "Sur"),)): 1.0,
    }
    assert park(samples, "parque_orders") == {
        ("parque_orders", (("channel", "online"), ("status", "paid"))): 1.0,
        ("parque_orders", (("channel", "online"), ("status", "pending"))): 1.0,
    }
    assert park(samples, "parque_payments") == {
        ("parque_payments", (("method", "sandbox"), ("status", "succeeded"))): 1.0
    }
    assert park(samples, "parque_webhook_events") == {
        ("parque_webhook_events", (("gateway", "stripe"), ("status", "failed"))): 1.0
    }
    assert park(samples, "parque_refunds") == {}
    assert samples[("parque_business_metrics_up", ())] == 1.0
    # Without a broker (tasks run eagerly) there is no queue to measure.
    assert park(samples, "parque_celery") == {}


def test_a_busy_answer_is_counted_by_view(scrape, user, slot, adult, monkeypatch):
    order = place_order(user, slot, adult, 1)
    labels = {"view": "v1:order-pay"}
    before = REGISTRY.get_sample_value("parque_busy_answers_total", labels) or 0.0

    def always_busy(*args, **kwargs):
        raise ConflictError("busy", code="busy", retry_after=1)

    monkeypatch.setattr(handlers, "update_locked", always_busy)
    busy = client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, format="json")
    assert (busy.status_code, busy.json()["code"]) == (409, "busy")
    assert REGISTRY.get_sample_value("parque_busy_answers_total", labels) == before + 1
    # Another refusal is no busy answer.
    refused = client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "nope"}, format="json")
    assert refused.status_code == 400
    assert REGISTRY.get_sample_value("parque_busy_answers_total", labels) == before + 1
    assert scrape()[("parque_busy_answers_total", (("view", "v1:order-pay"),))] == before + 1


def test_a_database_that_does_not_answer_leaves_the_business_metrics_out_not_the_page(
    scrape, monkeypatch
):
    def down():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(payment_selectors, "order_counts", down)
    samples = scrape()
    assert samples[("parque_business_metrics_up", ())] == 0.0
    assert park(samples, "parque_orders") == {}
    assert park(samples, "parque_tickets_sold") == {}


def test_tickets_sold_never_goes_down_when_an_order_is_cancelled(scrape, user, adult):
    """A counter that went down would read as a reset to Prometheus (rate() spikes): the
    cancelled order's tickets move from valid to void in the gauge, the counter stays."""
    start = timezone.now() + timedelta(days=3)  # far enough ahead to cancel
    slot = TimeSlotFactory(starts_at=start, ends_at=start + timedelta(minutes=30), capacity=10)
    order = paid_order(user, slot, adult, 3)
    assert scrape()[("parque_tickets_sold_total", (("channel", "online"),))] == 3.0
    cancelled = client_for(user).post(f"{ORDERS}{order.pk}/cancel/", {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    samples = scrape()
    assert samples[("parque_tickets_sold_total", (("channel", "online"),))] == 3.0
    assert {key: value for key, value in samples.items() if key[0] == "parque_tickets"} == {
        ("parque_tickets", (("channel", "online"), ("status", "void"))): 3.0
    }
