"""Interrupted payment attempts (docs/adr/0046) under what an outside review tried: other
gateways and the counter, gateways switched off, a job run that meets a broken attempt, a slow
call that is not dead, many callers at once, sold seats and hostile bodies."""

import io
import threading
import time
from datetime import timedelta

import httpx
import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone, translation
from rest_framework_simplejwt.tokens import AccessToken

from apps.business.payments import services as payments
from apps.business.payments.models import OrderStatus, Payment, PaymentStatus
from apps.business.tickets.models import Ticket
from apps.integrations.models import SandboxLedgerEntry
from apps.integrations.payments import PaymentRequest, registry
from apps.integrations.payments.sandbox import SandboxGateway
from apps.integrations.payments.stripe import StripeGateway
from apps.support.audit.models import AuditEvent
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.helpers import client_for, staff_member
from tests.integrations.stripe_fake import stripe_switched_on
from tests.race import post_retrying, race
from tests.sales import paid_order, place_order, run_out_hold

ORDERS = "/api/v1/payments/orders/"
postgres_only = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="row locks and threads need PostgreSQL"
)


class Killed(BaseException):
    """The process dying mid-call."""


def age(payment: Payment, seconds: int) -> None:
    Payment.objects.filter(pk=payment.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def kill_after_gateway(monkeypatch, gateway_class) -> None:
    start = gateway_class.start_payment

    def charged_then_killed(self, request):
        start(self, request)
        raise Killed

    monkeypatch.setattr(gateway_class, "start_payment", charged_then_killed)


def killed_attempt(
    user, order, monkeypatch, *, method="sandbox", gateway_class=SandboxGateway, options=None
) -> Payment:
    with monkeypatch.context() as patched:
        kill_after_gateway(patched, gateway_class)
        with pytest.raises(Killed):
            payments.order_pay(order=order, actor=user, method=method, options=options)
    (attempt,) = Payment.objects.filter(order=order)
    assert (attempt.status, attempt.gateway_outcome) == (PaymentStatus.PENDING, "")
    return attempt


def charges(attempt: Payment) -> int:
    key = f"payment-{attempt.order.code}-{attempt.pk}"
    return SandboxLedgerEntry.objects.filter(idempotency_key=key, kind="payment").count()


def audit_count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# --- What an outside review tried --------------------------------------------------------


@pytest.mark.django_db
def test_an_interrupted_stripe_attempt_is_failed_and_the_buyer_starts_a_new_one(
    user, slot, adult, settings, monkeypatch
):
    """A Stripe start takes no money (the buyer confirms with Stripe.js, and never saw this
    intent): the attempt is failed, whatever language the buyer now speaks, and a new intent
    is started for them (asking again under the key with a description in another language
    would be refused by Stripe)."""
    with stripe_switched_on(settings, monkeypatch) as fake:
        order = place_order(user, slot, adult)
        with translation.override("en"):
            attempt = killed_attempt(
                user, order, monkeypatch, method="stripe", gateway_class=StripeGateway
            )
        dead_intent = fake.last_intent_id
        age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

        answer = client_for(user).post(
            f"{ORDERS}{order.pk}/pay/", {"gateway": "stripe"}, HTTP_ACCEPT_LANGUAGE="es"
        )

        assert answer.status_code == 202, answer.json()
        (pending,) = [p for p in answer.json()["payments"] if p["status"] == "pending"]
        assert pending["next_action"]["type"] == "stripe_confirm"
        assert pending["id"] != attempt.pk
        assert Payment.objects.get(pk=pending["id"]).gateway_reference == fake.last_intent_id
        assert fake.last_intent_id != dead_intent
        attempt.refresh_from_db()
        assert (attempt.status, attempt.failure_code) == (PaymentStatus.FAILED, "interrupted")
        assert audit_count("payments.payment.resumed") == 0


@pytest.mark.django_db
def test_the_job_fails_an_interrupted_stripe_attempt_once(user, slot, adult, settings, monkeypatch):
    with stripe_switched_on(settings, monkeypatch) as fake:
        order = place_order(user, slot, adult)
        attempt = killed_attempt(
            user, order, monkeypatch, method="stripe", gateway_class=StripeGateway
        )
        intents = len(fake.intents)
        age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

        assert payments.payments_resume_interrupted() == 1
        assert payments.payments_resume_interrupted() == 0

        assert len(fake.intents) == intents  # Stripe was not asked
    attempt.refresh_from_db()
    assert (attempt.status, attempt.failure_code) == (PaymentStatus.FAILED, "interrupted")
    failed = AuditEvent.objects.filter(action="payments.payment.failed")
    assert [e.metadata["code"] for e in failed] == ["interrupted"]


@pytest.mark.django_db
def test_a_cash_pay_after_an_online_attempt_that_charged_hears_already_paid(
    slot, adult, monkeypatch, settings
):
    """The visitor's online attempt died after the sandbox charged. Past the window the cashier
    records cash: the earlier attempt is asked first and paid the order, so the cashier hears
    "already paid" (and takes no cash); no cash payment exists."""
    visitor = staff_member(Role.TICKET_OFFICE)  # any buyer; a cashier also places orders
    order = place_order(visitor, slot, adult)
    online = killed_attempt(visitor, order, monkeypatch)
    age(online, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
    cashier = staff_member(Role.TICKET_OFFICE)

    answer = client_for(cashier).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "cash"})

    assert (answer.status_code, answer.json()["code"]) == (409, "order_already_paid")
    assert list(Payment.objects.filter(order=order).values_list("method", "status")) == [
        ("sandbox", "succeeded")
    ]
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert charges(online) == 1


@pytest.mark.django_db
def test_a_cash_pay_after_an_online_attempt_that_was_declined_records_the_cash(
    slot, adult, monkeypatch, settings
):
    visitor = staff_member(Role.TICKET_OFFICE)
    order = place_order(visitor, slot, adult)
    online = killed_attempt(visitor, order, monkeypatch, options={"outcome": "decline"})
    age(online, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

    answer = client_for(staff_member(Role.TICKET_OFFICE)).post(
        f"{ORDERS}{order.pk}/pay/", {"gateway": "cash"}
    )

    assert answer.status_code == 200, answer.json()
    assert sorted(Payment.objects.filter(order=order).values_list("method", "status")) == [
        ("cash", "succeeded"),
        ("sandbox", "failed"),
    ]


@pytest.mark.django_db
def test_a_buyer_who_asks_for_stripe_gets_a_stripe_attempt(
    user, slot, adult, monkeypatch, settings
):
    """The interrupted attempt (sandbox, "later": pending at the gateway) is asked first, then
    left for the gateway the buyer now asks for, as the docs say of any pending attempt."""
    with stripe_switched_on(settings, monkeypatch):
        order = place_order(user, slot, adult)
        attempt = killed_attempt(user, order, monkeypatch, options={"outcome": "later"})
        age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

        answer = client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "stripe"})

        assert answer.status_code == 202, answer.json()
        (pending,) = [p for p in answer.json()["payments"] if p["status"] == "pending"]
        assert (pending["method"], pending["next_action"]["type"]) == ("stripe", "stripe_confirm")
    attempt.refresh_from_db()
    assert (attempt.status, attempt.failure_code) == (PaymentStatus.FAILED, "abandoned")


def stripe_attempt_switched_off(user, order, settings, monkeypatch) -> Payment:
    """A Stripe attempt interrupted, then Stripe switched off (keys rotated, the list edited)."""
    with stripe_switched_on(settings, monkeypatch):
        attempt = killed_attempt(
            user, order, monkeypatch, method="stripe", gateway_class=StripeGateway
        )
    settings.PAYMENT_GATEWAYS = ["sandbox"]
    registry.reset()
    return attempt


@pytest.mark.django_db
def test_an_attempt_of_a_gateway_switched_off_since_does_not_block_its_order(
    user, slot, adult, monkeypatch, settings
):
    order = place_order(user, slot, adult)
    attempt = stripe_attempt_switched_off(user, order, settings, monkeypatch)
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

    answer = client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"})

    assert (answer.status_code, answer.json()["status"]) == (200, "paid")
    attempt.refresh_from_db()
    assert (attempt.status, attempt.failure_code) == (PaymentStatus.FAILED, "interrupted")


@pytest.mark.django_db
def test_the_job_fails_a_switched_off_gateway_s_attempt_once(
    user, slot, adult, monkeypatch, settings
):
    order = place_order(user, slot, adult)
    attempt = stripe_attempt_switched_off(user, order, settings, monkeypatch)

    taken = []
    for _ in range(3):
        age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
        taken.append(payments.payments_resume_interrupted())

    assert taken == [1, 0, 0]
    assert audit_count("payments.payment.resumed") == 0
    assert Payment.objects.get(pk=attempt.pk).status == PaymentStatus.FAILED


@pytest.mark.django_db
def test_one_attempt_whose_retry_raises_does_not_stop_the_job_for_the_others(
    user, slot, adult, monkeypatch, settings
):
    first_order = place_order(user, slot, adult)
    first = killed_attempt(user, first_order, monkeypatch)
    second_order = place_order(user, slot, adult)
    second = killed_attempt(user, second_order, monkeypatch)
    start = SandboxGateway.start_payment

    def broken_for_the_first(self, request):
        if request.idempotency_key.endswith(f"-{first.pk}"):
            raise RuntimeError("an adapter bug for this one payment")
        return start(self, request)

    monkeypatch.setattr(SandboxGateway, "start_payment", broken_for_the_first)
    age(first, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 2)
    age(second, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

    assert payments.payments_resume_interrupted() == 2

    second_order.refresh_from_db()
    assert second_order.status == OrderStatus.PAID
    first_now = Payment.objects.get(pk=first.pk)
    assert (first_now.status, first_now.gateway_outcome) == (PaymentStatus.PENDING, "")
    # Touched by its take-over: behind every other attempt in the next run's queue.
    assert first_now.updated_at > Payment.objects.get(pk=second.pk).created_at


@pytest.mark.django_db
def test_one_attempt_whose_retry_raises_does_not_stop_the_cron_housekeeping(
    user, slot, adult, monkeypatch, settings
):
    stuck_order = place_order(user, slot, adult)
    stuck = killed_attempt(user, stuck_order, monkeypatch)
    age(stuck, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
    stale = place_order(user, slot, adult)
    run_out_hold(stale)

    def broken(self, request):
        raise RuntimeError("an adapter bug for this one payment")

    monkeypatch.setattr(SandboxGateway, "start_payment", broken)
    output = io.StringIO()
    call_command("orders_expire", stdout=output)

    stale.refresh_from_db()
    assert stale.status == OrderStatus.EXPIRED
    assert output.getvalue().startswith("1 orders expired")


def test_a_live_paypal_start_fits_in_three_times_the_gateway_timeout():
    """A PayPal start whose cached token PayPal has dropped makes three requests in a row
    (POST -> 401, token, POST), each within its timeout: the settings' floor for
    PAYMENTS_ATTEMPT_ABANDONED_SECONDS (three times the timeout) must cover it."""
    from tests.integrations.paypal_fake import FakePayPal

    timeout = 0.3
    fake = FakePayPal()
    handle = fake.transport.handler

    def slow(request):
        time.sleep(timeout * 0.9)  # every answer within the timeout
        return handle(request)

    fake.transport = httpx.MockTransport(slow)
    gateway = fake.gateway(timeout=timeout)
    gateway._access_token()  # a token cached from an earlier call
    fake.expire_tokens()
    request = PaymentRequest(
        amount_minor=290000,
        currency="CRC",
        reference="R-1",
        description="d",
        idempotency_key="payment-R-1",
    )
    began = time.monotonic()
    gateway.start_payment(request)
    took = time.monotonic() - began

    assert 2 * timeout < took <= 3 * timeout, f"{took:.2f}s for a window of 3 x {timeout}s"


# --- Slow original call vs. take-over (threads, PostgreSQL) -------------------------------


def _blocking_sandbox(monkeypatch, *, block_thread: str):
    """Sandbox start_payment that, in the thread named ``block_thread``, answers only once
    released (the call is slow, not dead)."""
    reached, release = threading.Event(), threading.Event()
    start = SandboxGateway.start_payment

    def slow(self, request):
        result = start(self, request)
        if threading.current_thread().name == block_thread:
            reached.set()
            assert release.wait(60)
        return result

    monkeypatch.setattr(SandboxGateway, "start_payment", slow)
    return reached, release


def _in_thread(name, target):
    box: dict[str, object] = {}

    def run():
        try:
            box["result"] = target()
        except BaseException as error:  # reported to the test
            box["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, box


def _slow_original_and_a_take_over(user, monkeypatch, settings, outcome):
    """The original call is not dead, only slower than the window: while its gateway answer
    is on its way, another pay takes the attempt over. Both ask the sandbox under one key."""
    order = place_order(user, TimeSlotFactory(capacity=4), TicketTypeFactory())
    options = {"outcome": outcome}
    reached, release = _blocking_sandbox(monkeypatch, block_thread="original")
    original, original_box = _in_thread(
        "original",
        lambda: payments.order_pay(order=order, actor=user, method="sandbox", options=options),
    )
    assert reached.wait(60)
    (attempt,) = Payment.objects.filter(order=order)
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
    try:
        taker = payments.order_pay(order=order, actor=user, method="sandbox", options=options)
    finally:
        release.set()
        original.join(60)
    return order, attempt, taker, original_box


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slow_original_call_answering_after_a_take_over_hears_already_paid(
    user, monkeypatch, settings
):
    """Exactly one caller hears "paid", one order.paid entry, one charge, one ticket."""
    order, attempt, taker, original_box = _slow_original_and_a_take_over(
        user, monkeypatch, settings, "approve"
    )
    assert taker.status == PaymentStatus.SUCCEEDED
    assert isinstance(original_box.get("error"), ConflictError), original_box
    assert original_box["error"].code == "order_already_paid"
    assert charges(attempt) == 1
    assert Ticket.objects.filter(order=order).count() == 1
    assert audit_count("payments.order.paid") == 1
    call_command("audit_verify")


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slow_original_call_and_its_take_over_record_the_start_once(user, monkeypatch, settings):
    """Both ask the sandbox under one key and hear "pending": the start is recorded once."""
    _order, attempt, taker, original_box = _slow_original_and_a_take_over(
        user, monkeypatch, settings, "later"
    )
    assert "error" not in original_box, original_box
    assert taker.status == PaymentStatus.PENDING
    assert charges(attempt) == 1
    call_command("audit_verify")
    assert audit_count("payments.payment.started") == 1


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_take_over_holds_the_attempt_while_its_own_call_is_out(user, monkeypatch, settings):
    """The take-over's own gateway call is slow; another pay meanwhile must answer
    payment_in_progress, not take the attempt over a second time (this is what the
    ``updated_at`` touch in _attempt_take_over buys)."""
    order = place_order(user, TimeSlotFactory(capacity=4), TicketTypeFactory())
    attempt = killed_attempt(user, order, monkeypatch)
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
    reached, release = _blocking_sandbox(monkeypatch, block_thread="taker")
    taker, taker_box = _in_thread(
        "taker", lambda: payments.order_pay(order=order, actor=user, method="sandbox")
    )
    assert reached.wait(60)
    try:
        with pytest.raises(ConflictError) as second:
            payments.order_pay(order=order, actor=user, method="sandbox")
        assert second.value.code == "payment_in_progress"
    finally:
        release.set()
        taker.join(60)
    assert taker_box["result"].status == PaymentStatus.SUCCEEDED
    assert audit_count("payments.payment.resumed") == 1
    assert charges(attempt) == 1


# --- Real races through the API (tests/race.py) -----------------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_buyers_taking_over_one_interrupted_attempt_at_once(user, monkeypatch, settings):
    order = place_order(user, TimeSlotFactory(capacity=5), TicketTypeFactory(), 2)
    attempt = killed_attempt(user, order, monkeypatch)
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
    token = str(AccessToken.for_user(user))

    def pay(client):
        response = post_retrying(client, f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"}, token)
        body = response.json()
        return (
            "pay",
            response.status_code,
            body["status"] if response.status_code < 300 else body["code"],
        )

    def job(client):
        return ("job", payments.payments_resume_interrupted(), "")

    results = race([pay] * 6 + [job] * 2, processes=2)
    paid = sorted(r for r in results if r[0] == "pay" and r[1] == 200)
    others = {(r[1], r[2]) for r in results if r[0] == "pay" and r[1] != 200}
    taken_by_jobs = sum(r[1] for r in results if r[0] == "job")
    # One taker (a pay or a job: one "resumed" entry); at most one caller hears "paid" (a pay
    # may settle what a job's call recorded, as any interrupted settlement is finished).
    assert taken_by_jobs <= 1, results
    assert len(paid) <= 1, results
    assert others <= {(409, "order_already_paid"), (409, "payment_in_progress")}, results
    assert audit_count("payments.payment.resumed") == 1, results
    assert audit_count("payments.order.paid") == 1
    assert charges(attempt) == 1
    assert Payment.objects.filter(order=order).count() == 1
    assert Ticket.objects.filter(order=order).count() == 2
    call_command("audit_verify")


# --- Expiry, sold seats, hostile input -----------------------------------------------------


@pytest.mark.django_db
def test_an_interrupted_attempt_whose_seats_were_sold_is_refunded_not_delivered(
    user, monkeypatch, settings
):
    slot = TimeSlotFactory(capacity=1)
    ticket_type = TicketTypeFactory()
    order = place_order(user, slot, ticket_type)
    attempt = killed_attempt(user, order, monkeypatch)
    run_out_hold(order)
    rival = paid_order(staff_member(Role.TICKET_OFFICE), slot, ticket_type)
    assert rival.status == OrderStatus.PAID
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)

    answer = client_for(user).post(f"{ORDERS}{order.pk}/pay/", {"gateway": "sandbox"})

    assert (answer.status_code, answer.json()["code"]) == (409, "sold_out"), answer.json()
    order.refresh_from_db()
    assert order.status != OrderStatus.PAID
    assert Ticket.objects.filter(order=order).count() == 0
    assert SandboxLedgerEntry.objects.filter(kind="refund").count() == 1
    assert charges(attempt) == 1
    call_command("audit_verify")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"gateway": "cash"},  # a visitor: counter only
        {"gateway": "bitcoin"},
        {"gateway": ["sandbox"]},
        {"gateway": "sandbox", "sandbox": "decline"},
        {"gateway": "sandbox", "sandbox": {"outcome": "explode"}},
        {"gateway": "stripe", "sandbox": {"outcome": "decline"}},
        {"gateway": "x" * 10000},
        {},
    ],
)
def test_hostile_pay_bodies_never_500_nor_take_the_attempt_over(
    user, slot, adult, monkeypatch, settings, body
):
    order = place_order(user, slot, adult)
    attempt = killed_attempt(user, order, monkeypatch)
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
    before = Payment.objects.get(pk=attempt.pk).updated_at

    answer = client_for(user).post(f"{ORDERS}{order.pk}/pay/", body, format="json")

    assert 400 <= answer.status_code < 500, (answer.status_code, answer.content[:300])
    assert Payment.objects.get(pk=attempt.pk).updated_at == before
    assert audit_count("payments.payment.resumed") == 0


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slow_original_call_timing_out_after_a_take_over_hears_already_paid(
    user, monkeypatch, settings
):
    """The original call is slower than the window and finally times out (GatewayError) after
    the take-over settled the attempt: its caller hears "already paid", not "nothing was
    charged"."""
    from apps.integrations.payments import GatewayError

    order = place_order(user, TimeSlotFactory(capacity=4), TicketTypeFactory())
    reached, release = threading.Event(), threading.Event()
    start = SandboxGateway.start_payment

    def slow_then_lost(self, request):
        result = start(self, request)
        if threading.current_thread().name == "original":
            reached.set()
            assert release.wait(60)
            raise GatewayError("the answer was lost on the way back")
        return result

    monkeypatch.setattr(SandboxGateway, "start_payment", slow_then_lost)
    original, original_box = _in_thread(
        "original", lambda: payments.order_pay(order=order, actor=user, method="sandbox")
    )
    assert reached.wait(60)
    (attempt,) = Payment.objects.filter(order=order)
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
    try:
        taker = payments.order_pay(order=order, actor=user, method="sandbox")
    finally:
        release.set()
        original.join(60)

    assert taker.status == PaymentStatus.SUCCEEDED
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    error = original_box.get("error")
    assert isinstance(error, ConflictError), original_box
    assert error.code == "order_already_paid", (error.code, str(error))


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slow_original_call_timing_out_while_the_take_over_is_out_leaves_it_to_the_taker(
    user, monkeypatch, settings
):
    """The original call times out while the take-over's own call is still out: the attempt is
    the taker's now, so the original does not fail it (the taker's answer would then settle a
    failed payment); its caller hears "in progress", and the taker's answer pays the order."""
    from apps.integrations.payments import GatewayError

    order = place_order(user, TimeSlotFactory(capacity=4), TicketTypeFactory())
    reached = {"original": threading.Event(), "taker": threading.Event()}
    release = {"original": threading.Event(), "taker": threading.Event()}
    start = SandboxGateway.start_payment

    def slow(self, request):
        result = start(self, request)
        name = threading.current_thread().name
        reached[name].set()
        assert release[name].wait(60)
        if name == "original":
            raise GatewayError("the answer was lost on the way back")
        return result

    monkeypatch.setattr(SandboxGateway, "start_payment", slow)
    original, original_box = _in_thread(
        "original", lambda: payments.order_pay(order=order, actor=user, method="sandbox")
    )
    assert reached["original"].wait(60)
    (attempt,) = Payment.objects.filter(order=order)
    age(attempt, settings.PAYMENTS_ATTEMPT_ABANDONED_SECONDS + 1)
    taker, taker_box = _in_thread(
        "taker", lambda: payments.order_pay(order=order, actor=user, method="sandbox")
    )
    try:
        assert reached["taker"].wait(60)
        release["original"].set()
        original.join(60)
    finally:
        release["original"].set()
        release["taker"].set()
        original.join(60)
        taker.join(60)

    error = original_box.get("error")
    assert isinstance(error, ConflictError), original_box
    assert error.code == "payment_in_progress"
    assert taker_box["result"].status == PaymentStatus.SUCCEEDED, taker_box
    assert list(Payment.objects.filter(order=order).values_list("status", flat=True)) == [
        PaymentStatus.SUCCEEDED
    ]
    assert audit_count("payments.payment.failed") == 0
    assert charges(attempt) == 1
    call_command("audit_verify")
