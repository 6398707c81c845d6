"""The reconciliation endpoints: who may call them, what they refuse, the CSV, and the fetch
that talks to the gateways outside every transaction (docs/adr/0031)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from apps.business.payments import services
from apps.business.payments.models import GatewayStatement, Order
from apps.integrations.payments.sandbox import SandboxGateway
from apps.support.audit import services as audit
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.helpers import client_for, staff_member
from tests.race import lock_waits_bounded_by
from tests.sales import paid_order

REPORT = "/api/v1/payments/reports/reconciliation/"
FETCH = "/api/v1/payments/reports/reconciliation/fetch/"


@pytest.fixture(autouse=True)
def sandbox_only(settings):
    settings.PAYMENT_GATEWAYS = ["sandbox"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "read", "fetch"),
    [
        (None, 401, 401),
        ("visitor", 403, 403),
        (Role.TICKET_OFFICE, 403, 403),
        (Role.AUDITOR, 200, 403),
        (Role.FINANCE, 200, 200),
    ],
)
def test_finance_and_auditors_read_finance_fetches(api_client, user, role, read, fetch):
    client = (
        api_client
        if role is None
        else client_for(user if role == "visitor" else staff_member(role))
    )
    day = timezone.localdate().isoformat()
    assert client.get(REPORT, {"date": day}).status_code == read
    assert client.post(FETCH, {"date": day}, format="json").status_code == fetch
    assert GatewayStatement.objects.count() == (1 if fetch == 200 else 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({}, "date", "required"),
        ({"date": "30/11/2026"}, "date", "invalid"),
        ({"date": "2026-11-30\x00"}, "date", "null_characters_not_allowed"),
        ({"date": "99999999-01-01"}, "date", "invalid"),
        ({"date": "1999-12-31"}, "date", "invalid"),
        ({"date": "FUTURE"}, "date", "invalid"),
        ({"date": "2026-11-30", "gateway": "stripe"}, "gateway", "unknown_field"),
        ({"date": "2026-11-30", "format": "xml"}, None, None),
    ],
)
def test_bad_days_are_400_in_the_one_error_shape(query, field, code):
    finance = client_for(staff_member(Role.FINANCE))
    if query.get("date") == "FUTURE":
        query = {"date": (timezone.localdate() + timedelta(days=1)).isoformat()}
    answer = finance.get(REPORT, query)
    if field is None:  # a format no renderer answers
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"
        return
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["code"] == "validation_error"
    assert [error["field"] for error in body["errors"]] == [field]
    if code != "invalid":
        assert body["errors"][0]["code"] == code
    if field == "date":
        assert finance.post(FETCH, query, format="json").status_code == 400
    assert GatewayStatement.objects.count() == 0


@pytest.mark.django_db
def test_the_csv_lists_totals_then_differences_then_matched(user):
    order = paid_order(user, TimeSlotFactory(), TicketTypeFactory(price=Decimal("500.00")), 2)
    day = timezone.localdate()
    services.statements_fetch(day=day)
    payment = order.payments.get()
    # The park changes its record afterwards: it now says it took 400.00.
    type(payment).objects.filter(pk=payment.pk).update(amount=Decimal("400.00"))
    auditor = client_for(staff_member(Role.AUDITOR))

    by_format = auditor.get(REPORT, {"date": day.isoformat(), "format": "csv"})
    by_accept = auditor.get(REPORT, {"date": day.isoformat()}, HTTP_ACCEPT="text/csv")

    assert by_format.status_code == 200
    assert by_format["Content-Type"] == "text/csv; charset=utf-8"
    assert by_format["Content-Disposition"] == (
        f'attachment; filename="reconciliation-{day.isoformat()}.csv"'
    )
    reference = payment.gateway_reference
    assert by_format.content.decode() == (
        "gateway,result,kind,order,gateway_reference,capture_reference,refund_reference,count,"
        "gateway_amount,park_amount,currency,gateway_status,park_status,detail\r\n"
        "sandbox,gateway_total,payment,,,,,1,1000.00,,CRC,,,\r\n"
        "sandbox,gateway_total,refund,,,,,0,0.00,,CRC,,,\r\n"
        "sandbox,park_total,payment,,,,,1,,400.00,CRC,,,\r\n"
        "sandbox,park_total,refund,,,,,0,,0.00,CRC,,,\r\n"
        f"sandbox,amount_differs,payment,{order.code},{reference},,,1,1000.00,400.00,CRC,"
        "succeeded,succeeded/paid,\r\n"
        "cash,park_only,payment,,,,,0,,0.00,CRC,,,\r\n"
        "cash,park_only,refund,,,,,0,,0.00,CRC,,,\r\n"
        "card_present,park_only,payment,,,,,0,,0.00,CRC,,,\r\n"
        "card_present,park_only,refund,,,,,0,,0.00,CRC,,,\r\n"
    )
    assert by_accept.content == by_format.content


@pytest.mark.django_db
def test_a_gateways_error_text_is_never_a_formula_in_the_csv(monkeypatch):
    from apps.integrations.payments import GatewayError

    def refuse(self, **kwargs):
        raise GatewayError('=HYPERLINK("http://evil")')

    monkeypatch.setattr(SandboxGateway, "transactions", refuse)
    day = timezone.localdate()
    services.statements_fetch(day=day)
    answer = client_for(staff_member(Role.FINANCE)).get(REPORT, {"date": day, "format": "csv"})
    assert 'sandbox,statement_failed,,,,,,,,,,,,"\'=HYPERLINK(""http://evil"")"\r\n' in (
        answer.content.decode()
    )


@pytest.mark.django_db
def test_fetching_inside_a_transaction_is_refused():
    with (
        transaction.atomic(),
        pytest.raises(RuntimeError, match="after the transaction commits"),
    ):
        services.statements_fetch(day=timezone.localdate())


WAIT = 120


def blocked(write) -> bool:
    try:
        with transaction.atomic():
            lock_waits_bounded_by(1, transaction_only=True)
            write()
    except (OperationalError, ConflictError):
        return True
    return False


@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_hanging_statement_call_holds_up_no_other_write(user, monkeypatch):
    order = paid_order(user, TimeSlotFactory(), TicketTypeFactory(price=Decimal("500.00")), 1)
    day = timezone.localdate()
    services.statements_fetch(day=day)  # the day's statement row exists: it is replaced
    calling, release = threading.Event(), threading.Event()
    statement_of_sandbox = SandboxGateway.transactions

    def hang(self, **kwargs):
        calling.set()
        assert release.wait(WAIT)
        return statement_of_sandbox(self, **kwargs)

    monkeypatch.setattr(SandboxGateway, "transactions", hang)
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["fetched"] = services.statements_fetch(day=day)
        except Exception as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert calling.wait(WAIT), outcome
        audit_blocked = blocked(lambda: audit.record(action="wildlife.species.updated"))
        order_blocked = blocked(
            lambda: Order.objects.select_for_update().filter(pk=order.pk).first()
        )
        statement_blocked = blocked(
            lambda: GatewayStatement.objects.select_for_update().filter(date=day).first()
        )
    finally:
        release.set()
        thread.join(WAIT)
    assert (audit_blocked, order_blocked, statement_blocked) == (False, False, False)
    assert "error" not in outcome, outcome
    assert GatewayStatement.objects.get().lines.count() == 1


@pytest.mark.django_db
def test_the_daily_task_and_the_command_fetch_their_days(monkeypatch):
    from django.core.management import CommandError, call_command

    from apps.business.payments.tasks import fetch_statements
    from apps.integrations.payments import GatewayError

    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    assert fetch_statements() == {
        yesterday.isoformat(): {"sandbox": "ok"},
        today.isoformat(): {"sandbox": "ok"},
    }
    call_command("payments_fetch_statements", "--date", yesterday.isoformat())
    assert sorted(GatewayStatement.objects.values_list("date", flat=True)) == [yesterday, today]
    with pytest.raises(CommandError, match="future"):
        call_command("payments_fetch_statements", "--date", (today + timedelta(days=1)).isoformat())

    def refuse(self, **kwargs):
        raise GatewayError("down")

    monkeypatch.setattr(SandboxGateway, "transactions", refuse)
    with pytest.raises(CommandError, match="1 gateway statement"):
        call_command("payments_fetch_statements")
    assert GatewayStatement.objects.get(date=yesterday).error == "down"
