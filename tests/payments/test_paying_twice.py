"""However many times an order is paid at once, one payment takes the money, one set of
tickets is issued, and exactly one caller hears "paid"; the others hear why not."""

import pytest
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from apps.business.payments import services as payments
from apps.business.payments.models import OrderStatus, Payment, PaymentStatus
from apps.business.payments.services import payments as payment_services
from apps.business.tickets.models import Ticket
from apps.support.common.errors import ConflictError
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.race import post_retrying, race
from tests.sales import place_order

ORDERS = "/api/v1/payments/orders/"


@pytest.mark.django_db
def test_a_second_call_that_resumes_the_first_one_s_payment_is_the_only_one_that_paid(
    user, slot, adult, monkeypatch
):
    """Call A's gateway has approved; before A settles, call B finds A's approved payment and
    settles it (the resume path for interrupted settlements). A must not answer "paid" too."""
    order = place_order(user, slot, adult)
    succeed = payment_services._payment_succeed
    answers: dict[str, object] = {}

    def b_runs_before_a_settles(**kwargs):
        if "b" not in answers:
            answers["b"] = "running"
            answers["b"] = payments.order_pay(order=order, actor=user, method="sandbox")
        return succeed(**kwargs)

    monkeypatch.setattr(payment_services, "_payment_succeed", b_runs_before_a_settles)
    with pytest.raises(ConflictError) as a_refused:
        payments.order_pay(order=order, actor=user, method="sandbox")

    assert a_refused.value.code == "order_already_paid"
    assert answers["b"].status == PaymentStatus.SUCCEEDED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert list(Payment.objects.values_list("status", flat=True)) == [PaymentStatus.SUCCEEDED]
    assert Ticket.objects.filter(order=order).count() == 1


@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_callers_paying_one_order_at_once_one_hears_paid(user):
    order = place_order(user, TimeSlotFactory(capacity=5), TicketTypeFactory(), 2)
    token = str(AccessToken.for_user(user))

    def pay(client):
        response = post_retrying(client, f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, token)
        body = response.json()
        return (
            "pay",
            response.status_code,
            body["status"] if response.status_code < 300 else body["code"],
        )

    results = race([pay] * 10, processes=2)
    answers = sorted((status, code) for _kind, status, code in results)
    assert answers[0] == (200, "paid"), results
    assert set(answers[1:]) <= {(409, "order_already_paid"), (409, "payment_in_progress")}
    assert len(answers) == 10
    assert list(Payment.objects.values_list("status", flat=True)) == [PaymentStatus.SUCCEEDED]
    assert Ticket.objects.filter(order=order).count() == 2
