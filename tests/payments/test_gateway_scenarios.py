"""One scenario suite over every gateway: pay, fail, pay again, refund part, refund the rest,
replayed and reordered events, a lost webhook recovered by the next pay call.

Each gateway is driven through its own fake at the HTTP transport boundary (recorded shapes of
its real answers, webhooks signed with its real scheme); nothing reaches the network. A
``Driver`` says how a buyer and the gateway act for that gateway; the scenarios are the same.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from apps.business.payments.models import (
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from apps.business.tickets.models import Ticket, TimeSlot
from apps.integrations.payments import get_gateway
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.helpers import client_for, staff_member
from tests.integrations.paypal_fake import FakePayPal, use_fake_paypal
from tests.integrations.stripe_fake import Delivery as StripeDelivery
from tests.integrations.stripe_fake import FakeStripe, stripe_switched_on
from tests.sales import place_order

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"
Delivery = dict[str, Any]


def post(api_client, gateway: str, delivery: Delivery):
    return api_client.generic(
        "POST",
        f"/api/v1/payments/webhooks/{gateway}/",
        delivery["body"],
        content_type="application/json",
        headers=delivery["headers"],
    )


class SandboxDriver:
    """The sandbox "bank": settled only by the signed webhooks its start answered."""

    name = "sandbox"
    remembers = False  # no state of its own: a lost webhook stays lost, no dashboard refunds

    def __init__(self, settings, monkeypatch) -> None:
        settings.PAYMENT_GATEWAYS = ["sandbox"]

    def pay_body(self) -> dict[str, Any]:
        return {"gateway": "sandbox", "sandbox": {"outcome": "later"}}

    def buyer_pays(self, payment: Payment) -> Delivery:
        assert payment.next_action is not None
        return payment.next_action["approve"]

    def buyer_is_declined(self, payment: Payment) -> Delivery:
        assert payment.next_action is not None
        return payment.next_action["decline"]


class PayPalDriver:
    name = "paypal"
    remembers = True

    def __init__(self, settings, monkeypatch) -> None:
        settings.PAYMENT_GATEWAYS = []
        self.fake: FakePayPal = use_fake_paypal(settings, monkeypatch)

    def pay_body(self) -> dict[str, Any]:
        return {"gateway": "paypal"}

    def buyer_pays(self, payment: Payment) -> Delivery:
        """The buyer approves on PayPal; PayPal announces it (the park then captures)."""
        return self.fake.approve(payment.gateway_reference)

    def buyer_is_declined(self, payment: Payment) -> Delivery:
        self.fake.decline_next_capture(payment.gateway_reference)
        return self.fake.approve(payment.gateway_reference)

    def settled_delivery(self, payment: Payment) -> Delivery:
        return self.fake.capture_completed_event(payment.gateway_reference)

    def refunds_delivery(self, refund_reference: str) -> Delivery:
        return self.fake.refunded_event(refund_reference)

    def dispute_delivery(self, payment: Payment) -> Delivery:
        return self.fake.dispute_created_event(payment.gateway_reference)


class StripeDriver:
    name = "stripe"
    remembers = True

    def __init__(self, settings, monkeypatch) -> None:
        settings.PAYMENT_GATEWAYS = []
        self._switch = stripe_switched_on(settings, monkeypatch)
        self.fake: FakeStripe = self._switch.__enter__()

    def close(self) -> None:
        self._switch.__exit__(None, None, None)  # fails the test on a request it did not know

    def pay_body(self) -> dict[str, Any]:
        return {"gateway": "stripe"}

    def buyer_pays(self, payment: Payment) -> Delivery:
        """Stripe.js confirms the intent in the buyer's browser; Stripe announces it."""
        return self._plain(self.fake.confirm(payment.gateway_reference))

    def buyer_is_declined(self, payment: Payment) -> Delivery:
        return self._plain(self.fake.fail(payment.gateway_reference))

    def settled_delivery(self, payment: Payment) -> Delivery:
        return self._plain(
            self.fake.deliver(self.fake.events_of_type("payment_intent.succeeded")[-1])
        )

    def refunds_delivery(self, refund_reference: str) -> Delivery:
        refund = self.fake.refunds[refund_reference]
        return self._plain(self.fake.deliver(self.fake.event("refund.updated", refund)))

    def dispute_delivery(self, payment: Payment) -> Delivery:
        return self._plain(self.fake.dispute(payment.gateway_reference))

    @staticmethod
    def _plain(delivery: StripeDelivery) -> Delivery:
        return {"body": delivery.body, "headers": delivery.headers}


DRIVERS = {"sandbox": SandboxDriver, "paypal": PayPalDriver, "stripe": StripeDriver}


@pytest.fixture(params=sorted(DRIVERS))
def driver(request, settings, monkeypatch):
    from apps.integrations.payments import registry

    registry.reset()
    driver = DRIVERS[request.param](settings, monkeypatch)
    yield driver
    if hasattr(driver, "close"):
        driver.close()
    registry.reset()


@dataclass
class Sale:
    order: Any
    visitor: Any

    def pay(self, body: dict[str, Any]):
        return client_for(self.visitor).post(f"{ORDERS}{self.order.pk}/pay/", body, format="json")

    def pending_payment(self) -> Payment:
        return Payment.objects.get(order=self.order, status=PaymentStatus.PENDING)

    def tickets(self) -> int:
        return Ticket.objects.filter(order=self.order, status="valid").count()


@pytest.fixture
def sale(user):
    """Three adults at 2,900.00: 8,700.00 CRC."""
    ticket_type = TicketTypeFactory(price=Decimal("2900.00"))
    return Sale(order=place_order(user, TimeSlotFactory(capacity=10), ticket_type, 3), visitor=user)


def paid(driver, sale, api_client) -> Payment:
    started = sale.pay(driver.pay_body())
    assert started.status_code == 202, started.json()
    payment = sale.pending_payment()
    delivered = post(api_client, driver.name, driver.buyer_pays(payment))
    assert delivered.status_code == 200
    if driver.name == "sandbox":
        assert delivered.json()["status"] == "processed"
    else:  # the buyer is back on the park's page, which calls pay/ again
        again = sale.pay(driver.pay_body())
        assert (again.status_code, again.json()["code"]) == (409, "order_already_paid")
    payment.refresh_from_db()
    return payment


def test_pay_once_however_often_the_gateway_says_so(driver, sale, api_client):
    payment = paid(driver, sale, api_client)
    sale.order.refresh_from_db()
    assert (sale.order.status, payment.status, sale.tickets()) == (
        OrderStatus.PAID,
        PaymentStatus.SUCCEEDED,
        3,
    )
    # Every delivery again, three times: nothing changes.
    events = list(WebhookEvent.objects.filter(gateway=driver.name))
    for event in events * 3:
        delivery = {"body": event.body, "headers": {}}
        replayed = client_for(staff_member(Role.FINANCE)).post(
            f"/api/v1/payments/webhook-events/{event.pk}/replay/"
        )
        assert replayed.status_code == 200, delivery
    assert (Payment.objects.filter(order=sale.order).count(), sale.tickets()) == (1, 3)
    assert TimeSlot.objects.get().sold == 3


@pytest.mark.parametrize("learnt_by", ["webhook", "pay again"])
def test_declined_then_paid_with_a_new_attempt(driver, sale, api_client, learnt_by):
    if learnt_by == "pay again" and not driver.remembers:
        pytest.skip("the sandbox tells a decline only by its webhook")
    assert sale.pay(driver.pay_body()).status_code == 202
    first = sale.pending_payment()
    decline = driver.buyer_is_declined(first)
    if learnt_by == "webhook":
        assert post(api_client, driver.name, decline).json()["status"] == "processed"
    else:  # the webhook is late; the buyer's page asks first
        declined = sale.pay(driver.pay_body())
        assert (declined.status_code, declined.json()["code"]) == (402, "payment_declined")
    first.refresh_from_db()
    assert first.status == PaymentStatus.FAILED
    second = paid(driver, sale, api_client)
    assert second.pk != first.pk
    sale.order.refresh_from_db()
    assert sale.order.status == OrderStatus.PAID
    assert [p.status for p in Payment.objects.filter(order=sale.order).order_by("pk")] == [
        PaymentStatus.FAILED,
        PaymentStatus.SUCCEEDED,
    ]
    assert sale.tickets() == 3


def test_refund_part_then_the_rest(driver, sale, api_client):
    payment = paid(driver, sale, api_client)
    finance = client_for(staff_member(Role.FINANCE))
    line = sale.order.lines.get()
    part = finance.post(
        f"{ORDERS}{sale.order.pk}/refunds/",
        {"lines": [{"line": line.pk, "quantity": 1}]},
        format="json",
    )
    assert (part.status_code, part.json()["status"], part.json()["amount"]) == (
        201,
        "succeeded",
        "2900.00",
    )
    assert sale.tickets() == 2
    rest = finance.post(f"{ORDERS}{sale.order.pk}/refunds/", {}, format="json")
    assert (rest.status_code, rest.json()["status"], rest.json()["amount"]) == (
        201,
        "succeeded",
        "5800.00",
    )
    sale.order.refresh_from_db()
    payment.refresh_from_db()
    assert (sale.order.status, payment.status, sale.tickets()) == (
        OrderStatus.CANCELED,
        PaymentStatus.REFUNDED,
        0,
    )
    gateway = get_gateway(driver.name)
    told = gateway.refunds(
        gateway_reference=payment.gateway_reference,
        capture_reference=payment.capture_reference,
    )
    if driver.remembers:
        # The gateway holds exactly what the park recorded, in minor units.
        assert sorted(r.amount_minor for r in told) == [290000, 580000]
        # Its refund webhooks arrive afterwards, twice: nothing new is recorded.
        for refund in Refund.objects.filter(payment=payment):
            delivery = driver.refunds_delivery(refund.gateway_reference)
            for _ in range(2):
                assert post(api_client, driver.name, delivery).json()["status"] == "processed"
    assert list(
        Refund.objects.filter(payment=payment).order_by("pk").values_list("amount", "status")
    ) == [
        (Decimal("2900.00"), RefundStatus.SUCCEEDED),
        (Decimal("5800.00"), RefundStatus.SUCCEEDED),
    ]


def test_a_lost_webhook_is_recovered_by_the_next_pay_call(driver, sale, api_client):
    if not driver.remembers:
        pytest.skip("the sandbox keeps no state: its payments settle only by their webhook")
    assert sale.pay(driver.pay_body()).status_code == 202
    payment = sale.pending_payment()
    late = driver.buyer_pays(payment)  # the gateway's webhook is lost on the way
    recovered = sale.pay(driver.pay_body())
    assert (recovered.status_code, recovered.json()["status"]) == (200, "paid")
    assert sale.tickets() == 3
    # The lost delivery turns up after all: nothing changes.
    assert post(api_client, driver.name, late).json()["status"] == "processed"
    assert (Payment.objects.filter(order=sale.order).count(), sale.tickets()) == (1, 3)


def test_events_in_any_order_end_in_the_same_state(driver, sale, api_client):
    """The gateway settles and then refunds (from its dashboard); its webhooks arrive the
    other way round. The early refund event waits, then applies when the payment settles."""
    if not driver.remembers:
        pytest.skip("the sandbox sends no refund events")
    assert sale.pay(driver.pay_body()).status_code == 202
    payment = sale.pending_payment()
    approval = driver.buyer_pays(payment)
    gateway = get_gateway(driver.name)
    settled = gateway.resume_payment(
        gateway_reference=payment.gateway_reference,
        idempotency_key=f"capture-{sale.order.code}-{payment.pk}",
    )
    dashboard = gateway.refund(
        gateway_reference=payment.gateway_reference,
        capture_reference=settled.capture_reference,
        amount_minor=100000,
        currency="CRC",
        idempotency_key="made-in-the-dashboard",
    )
    refunds_first = post(
        api_client, driver.name, driver.refunds_delivery(dashboard.gateway_reference)
    )
    assert refunds_first.json()["status"] == "failed"  # its payment is not settled yet
    assert Refund.objects.count() == 0
    for delivery in (driver.settled_delivery(payment), approval):
        assert post(api_client, driver.name, delivery).json()["status"] == "processed"
    sale.order.refresh_from_db()
    payment.refresh_from_db()
    assert (sale.order.status, payment.status, sale.tickets()) == (
        OrderStatus.PAID,
        PaymentStatus.PARTIALLY_REFUNDED,
        3,
    )
    assert list(Refund.objects.values_list("amount", "status", "scope", "gateway_reference")) == [
        (Decimal("1000.00"), "succeeded", "gateway", dashboard.gateway_reference)
    ]
    assert set(
        WebhookEvent.objects.filter(gateway=driver.name).values_list("status", flat=True)
    ) == {"processed"}
    assert WebhookEvent.objects.filter(next_attempt_at__gt=timezone.now()).count() == 0


def test_a_dispute_marks_the_order_and_tells_finance_once(
    driver, sale, api_client, django_capture_on_commit_callbacks
):
    if not driver.remembers:
        pytest.skip("the sandbox has no disputes")
    finance = staff_member(Role.FINANCE)
    payment = paid(driver, sale, api_client)
    delivery = driver.dispute_delivery(payment)
    mail.outbox.clear()
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            assert post(api_client, driver.name, delivery).json()["status"] == "processed"
    sale.order.refresh_from_db()
    assert sale.order.disputed_at is not None
    assert sale.order.status == OrderStatus.PAID  # the money is in question, not the visit
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([finance.email], f"Disputa abierta sobre el pedido {sale.order.code}")
    ]
    assert AuditEvent.objects.filter(action="payments.order.disputed").count() == 1
