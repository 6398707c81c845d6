"""Finance refunds: the whole order, some of its lines or an amount; never more than was
captured; a refund the gateway refuses changes nothing and can be tried again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from apps.business.payments import services as payments
from apps.business.payments.models import (
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
)
from apps.business.tickets.models import Ticket, TimeSlot
from apps.integrations.payments import GatewayError, RefundOutcome, RefundResult
from apps.integrations.payments.sandbox import SandboxGateway
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for, staff_member
from tests.sales import paid_order, place_order

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"


@pytest.fixture
def order(user):
    """Three adults (2,900.00 each) in a slot of ten: 8,700.00 paid."""
    ticket_type = TicketTypeFactory(price=Decimal("2900.00"))
    return paid_order(user, TimeSlotFactory(capacity=10), ticket_type, 3)


@pytest.fixture
def finance():
    return client_for(staff_member(Role.FINANCE))


def refund(client, order, body):
    return client.post(f"{ORDERS}{order.pk}/refunds/", body, format="json")


def valid_tickets(order) -> int:
    return Ticket.objects.filter(order=order, status="valid").count()


def test_the_whole_order_voids_its_tickets_frees_its_seats_and_tells_the_buyer(
    order, finance, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = refund(finance, order, {"reason": "Storm closed the park"})
    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("order", "amount", "currency", "status", "scope")} == {
        "order": order.pk,
        "amount": "8700.00",
        "currency": "CRC",
        "status": "succeeded",
        "scope": "order",
    }
    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (OrderStatus.CANCELED, "Storm closed the park")
    assert order.payments.get().status == PaymentStatus.REFUNDED
    assert valid_tickets(order) == 0
    assert TimeSlot.objects.get(pk=order.lines.get().reference["slot"]).sold == 0
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([order.email], f"Su reembolso del pedido {order.code}")
    ]
    assert list(
        AuditEvent.objects.filter(action__startswith="payments.refund.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["payments.refund.requested", "payments.refund.succeeded"]


def test_some_lines_void_that_many_tickets_and_the_rest_follows(order, finance):
    line = order.lines.get()
    slot = TimeSlot.objects.get(pk=line.reference["slot"])
    first = refund(finance, order, {"lines": [{"line": line.pk, "quantity": 1}]})
    assert (first.status_code, first.json()["amount"], first.json()["status"]) == (
        201,
        "2900.00",
        "succeeded",
    )
    assert first.json()["lines"] == [{"line": line.pk, "quantity": 1}]
    assert valid_tickets(order) == 2
    assert TimeSlot.objects.get(pk=slot.pk).sold == 2
    order.refresh_from_db()
    assert (order.status, order.payments.get().status) == (
        OrderStatus.PAID,
        PaymentStatus.PARTIALLY_REFUNDED,
    )
    # Only two of the line are left to refund.
    too_many = refund(finance, order, {"lines": [{"line": line.pk, "quantity": 3}]})
    assert (too_many.status_code, too_many.json()["code"]) == (409, "refund_exceeds_captured")
    assert [(e["field"]) for e in too_many.json()["errors"]] == ["lines.0.quantity"]
    rest = refund(finance, order, {})
    assert (rest.status_code, rest.json()["amount"], rest.json()["scope"]) == (
        201,
        "5800.00",
        "order",
    )
    order.refresh_from_db()
    assert (order.status, order.payments.get().status) == (
        OrderStatus.CANCELED,
        PaymentStatus.REFUNDED,
    )
    assert valid_tickets(order) == 0
    assert TimeSlot.objects.get(pk=slot.pk).sold == 0
    nothing = refund(finance, order, {})
    assert (nothing.status_code, nothing.json()["code"]) == (409, "nothing_to_refund")


def test_an_amount_gives_money_only_and_never_more_than_is_left(order, finance):
    goodwill = refund(finance, order, {"amount": "1000.00", "reason": "Tank closed"})
    assert (goodwill.status_code, goodwill.json()["scope"], goodwill.json()["amount"]) == (
        201,
        "amount",
        "1000.00",
    )
    assert valid_tickets(order) == 3
    before = (Refund.objects.count(), AuditEvent.objects.count())
    too_much = refund(finance, order, {"amount": "7700.01"})
    assert (too_much.status_code, too_much.json()["code"]) == (409, "refund_exceeds_captured")
    assert (Refund.objects.count(), AuditEvent.objects.count()) == before
    exact = refund(finance, order, {"amount": "7700.00"})
    assert (exact.status_code, exact.json()["status"]) == (201, "succeeded")
    order.refresh_from_db()
    # Money only: the order and its tickets stand, the payment is fully given back.
    assert (order.status, order.payments.get().status, valid_tickets(order)) == (
        OrderStatus.PAID,
        PaymentStatus.REFUNDED,
        3,
    )


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"amount": "0.00"}, "amount", "min_value"),
        ({"amount": "-5"}, "amount", "min_value"),
        ({"amount": "12.345"}, "amount", "max_decimal_places"),
        ({"lines": []}, "lines", "min_length"),
        ({"lines": [{"line": 1}]}, "lines.0.quantity", "required"),
        ({"lines": [{"line": 1, "quantity": 0}]}, "lines.0.quantity", "min_value"),
        ({"lines": [{"line": 1, "quantity": 1}], "amount": "5.00"}, "amount", "refund_invalid"),
        ({"amount": "5.00", "total": "1"}, "total", "unknown_field"),
    ],
)
def test_bad_refund_bodies_are_400_and_write_nothing(order, finance, body, field, code):
    response = refund(finance, order, body)
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert Refund.objects.count() == 0


def test_a_line_of_another_order_is_refused(order, finance, user):
    other = paid_order(user, TimeSlotFactory(), TicketTypeFactory(), 1)
    response = refund(finance, order, {"lines": [{"line": other.lines.get().pk, "quantity": 1}]})
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("lines.0.line", "refund_invalid")
    ]
    assert Refund.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("owner", 403),
        ("other visitor", 403),
        (Role.TICKET_OFFICE, 403),
        (Role.GATE_STAFF, 403),
        (Role.AUDITOR, 403),
        (Role.FINANCE, 201),
        (Role.ADMINISTRATOR, 201),
    ],
)
def test_only_finance_and_administrators_refund(order, user, api_client, who, status):
    client = {
        "anonymous": api_client,
        "owner": client_for(user),
        "other visitor": client_for(UserFactory()),
    }.get(who) or client_for(staff_member(who))
    before = AuditEvent.objects.count()
    response = refund(client, order, {"amount": "100.00"})
    assert response.status_code == status
    if status != 201:
        assert Refund.objects.count() == 0
        assert AuditEvent.objects.count() == before
        order.refresh_from_db()
        assert order.payments.get().status == PaymentStatus.SUCCEEDED


def test_an_unpaid_order_has_nothing_to_refund(user, finance):
    order = place_order(user, TimeSlotFactory(), TicketTypeFactory(), 1)
    response = refund(finance, order, {})
    assert (response.status_code, response.json()["code"]) == (409, "nothing_to_refund")
    assert Refund.objects.count() == 0


def test_a_refused_refund_changes_nothing_and_is_retried_with_the_same_key(
    order, finance, monkeypatch
):
    asked: list[str] = []

    def refuse(self, **kwargs):
        asked.append(kwargs["idempotency_key"])
        return RefundResult(
            outcome=RefundOutcome.FAILED, gateway_reference="", failure_message="no"
        )

    monkeypatch.setattr(SandboxGateway, "refund", refuse)
    line = order.lines.get()
    response = refund(finance, order, {"lines": [{"line": line.pk, "quantity": 2}]})
    assert (
        response.status_code,
        response.json()["status"],
        response.json()["failure_message"],
    ) == (
        201,
        "failed",
        "no",
    )
    refund_id = response.json()["id"]
    order.refresh_from_db()
    assert (order.status, order.payments.get().status, valid_tickets(order)) == (
        OrderStatus.PAID,
        PaymentStatus.SUCCEEDED,
        3,
    )
    # A failed refund does not count against what is left: the whole order is refundable.
    monkeypatch.undo()
    retried = finance.post(f"/api/v1/payments/refunds/{refund_id}/retry/", format="json")
    assert (retried.status_code, retried.json()["status"], retried.json()["attempts"]) == (
        200,
        "succeeded",
        2,
    )
    assert asked == [f"refund-{refund_id}"]
    assert valid_tickets(order) == 1


def test_a_gateway_that_does_not_answer_leaves_the_refund_pending_and_asks_again_alike(
    order, finance, monkeypatch
):
    asked: list[str] = []

    def timeout(self, **kwargs):
        asked.append(kwargs["idempotency_key"])
        raise GatewayError("timed out")

    monkeypatch.setattr(SandboxGateway, "refund", timeout)
    response = refund(finance, order, {})
    assert (response.status_code, response.json()["status"]) == (201, "pending")
    assert response.json()["failure_message"] == (
        "El proveedor de pagos no respondió (timed out); el reembolso se pide de nuevo con la "
        "misma solicitud, nunca dos veces."
    )
    order.refresh_from_db()
    assert (order.status, valid_tickets(order)) == (OrderStatus.PAID, 3)
    # Still counting against what is left: nothing more can be refunded meanwhile.
    more = refund(finance, order, {"amount": "1.00"})
    assert (more.status_code, more.json()["code"]) == (409, "refund_exceeds_captured")
    # The resend job asks again with the same key; this time the gateway answers.
    monkeypatch.undo()
    Refund.objects.update(updated_at=timezone.now() - timedelta(minutes=3))
    assert payments.refunds_resend_pending() == 1
    [done] = Refund.objects.all()
    assert (done.status, done.attempts, asked) == ("succeeded", 2, [f"refund-{done.pk}"])
    order.refresh_from_db()
    assert (order.status, valid_tickets(order)) == (OrderStatus.CANCELED, 0)


def test_finance_lists_refunds_by_order_and_status(order, finance, user):
    refund(finance, order, {"amount": "100.00"})
    other = paid_order(user, TimeSlotFactory(), TicketTypeFactory(), 1)
    refund(finance, other, {})
    listed = finance.get("/api/v1/payments/refunds/", {"order": order.pk})
    assert [(r["order"], r["amount"], r["status"]) for r in listed.json()["results"]] == [
        (order.pk, "100.00", "succeeded")
    ]
    assert client_for(user).get("/api/v1/payments/refunds/").status_code == 403
    payment = Payment.objects.get(order=order)
    assert [
        r["amount"]
        for r in finance.get(f"/api/v1/payments/payments/{payment.pk}/").json()["refunds"]
    ] == ["100.00"]


def test_a_pending_refund_of_lines_holds_those_items(order, finance, monkeypatch):
    pending = RefundResult(outcome=RefundOutcome.PENDING, gateway_reference="re_wait")
    monkeypatch.setattr(SandboxGateway, "refund", lambda self, **kwargs: pending)
    line = order.lines.get()
    first = refund(finance, order, {"lines": [{"line": line.pk, "quantity": 2}]})
    assert (first.status_code, first.json()["status"]) == (201, "pending")
    assert valid_tickets(order) == 3  # voided when the gateway confirms
    again = refund(finance, order, {"lines": [{"line": line.pk, "quantity": 2}]})
    assert (again.status_code, again.json()["code"]) == (409, "refund_exceeds_captured")
    assert [e["field"] for e in again.json()["errors"]] == ["lines.0.quantity"]
    assert Refund.objects.count() == 1


def test_a_failed_refund_is_not_retried_beyond_what_is_left(order, finance, monkeypatch):
    refuse = RefundResult(outcome=RefundOutcome.FAILED, gateway_reference="", failure_message="no")
    monkeypatch.setattr(SandboxGateway, "refund", lambda self, **kwargs: refuse)
    failed = refund(finance, order, {"amount": "5000.00"})
    assert failed.json()["status"] == "failed"
    monkeypatch.undo()
    assert refund(finance, order, {"amount": "5000.00"}).json()["status"] == "succeeded"
    retried = finance.post(f"/api/v1/payments/refunds/{failed.json()['id']}/retry/")
    assert (retried.status_code, retried.json()["code"]) == (409, "refund_exceeds_captured")
    assert Refund.objects.get(pk=failed.json()["id"]).status == "failed"
