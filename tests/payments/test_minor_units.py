"""Gateways take integers in the currency's minor unit: what they are sent, to the unit."""

from decimal import Decimal

import pytest

from apps.business.payments import services as payments
from apps.business.payments.models import OrderStatus, PaymentStatus
from apps.business.payments.services import to_minor_units
from apps.integrations.payments import PaymentRequest, PaymentResult, RefundResult, registry
from apps.integrations.payments.sandbox import SandboxGateway
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import staff_member
from tests.sales import place_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("2900.00", "CRC", 290000),
        ("5800.00", "CRC", 580000),
        ("1500", "jpy", 1500),  # codes in any case
        ("1.0005", "kwd", 1001),
        ("12.50", "USD", 1250),
        ("0.005", "USD", 1),  # half a cent rounds up
        ("0.0049", "USD", 0),
        ("0.025", "USD", 3),  # half-up, not to even
        ("1.995", "USD", 200),
        ("1500", "JPY", 1500),
        ("0.5", "JPY", 1),
        ("0.49", "JPY", 0),
        ("2.5", "JPY", 3),
        ("1.0005", "KWD", 1001),
        ("1.0004", "KWD", 1000),
        ("8.50", "KWD", 8500),
        ("0", "USD", 0),
    ],
)
def test_amounts_become_minor_units_of_their_currency_half_up(amount, currency, minor):
    result = to_minor_units(Decimal(amount), currency)
    assert (result, type(result)) == (minor, int)


class RecordingGateway(SandboxGateway):
    """The sandbox, noting what it is asked to charge and to refund."""

    def __init__(self, *, webhook_secret: str) -> None:
        super().__init__(webhook_secret=webhook_secret)
        self.seen: list[tuple[str, int, str]] = []

    def start_payment(self, request: PaymentRequest) -> PaymentResult:
        self.seen.append(("payment", request.amount_minor, request.currency))
        return super().start_payment(request)

    def refund(
        self,
        *,
        gateway_reference: str,
        capture_reference: str,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
    ) -> RefundResult:
        self.seen.append(("refund", amount_minor, currency))
        return super().refund(
            gateway_reference=gateway_reference,
            capture_reference=capture_reference,
            amount_minor=amount_minor,
            currency=currency,
            idempotency_key=idempotency_key,
        )


@pytest.fixture
def gateway(settings, monkeypatch) -> RecordingGateway:
    """Enabled as ``sandbox`` the way the registry builds gateways."""
    recording = RecordingGateway(webhook_secret=settings.PAYMENTS_SANDBOX_WEBHOOK_SECRET)
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    monkeypatch.setattr(registry, "_build", lambda name: {"sandbox": recording}[name])
    return recording


@pytest.mark.parametrize(
    ("price", "currency", "minor"),
    [
        ("2900.00", "CRC", 580000),  # céntimos
        ("12.50", "USD", 2500),  # cents
        ("1500.00", "JPY", 3000),  # no minor unit
        ("4.25", "KWD", 8500),  # fils: a thousand to the dinar
    ],
)
def test_the_gateway_charges_and_refunds_the_exact_minor_amount(gateway, price, currency, minor):
    adult = TicketTypeFactory(price=Decimal(price), currency=currency)
    visitor = UserFactory()
    order = place_order(visitor, TimeSlotFactory(), adult, 2)
    payment = payments.order_pay(order=order, actor=visitor, method="sandbox")
    payments.order_cancel(
        order=order, actor=staff_member(Role.TICKET_OFFICE), reason="visitor called"
    )

    assert gateway.seen == [("payment", minor, currency), ("refund", minor, currency)]
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, order.total, payment.status, payment.refunds.get().amount) == (
        OrderStatus.CANCELED,
        Decimal(price) * 2,
        PaymentStatus.REFUNDED,
        Decimal(price) * 2,
    )
