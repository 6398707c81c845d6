"""Check-in at the gate: each ticket once, on its day and slot (plus the grace), genuine
codes only; two gates scanning one ticket at once admit it once."""

import json
from datetime import timedelta
from threading import Barrier

import pytest
from django.db import connection
from django.utils import timezone, translation

from api.v1.tickets.serializers import CheckInSerializer
from apps.business.payments import services as payments
from apps.business.tickets.models import CheckIn, Ticket
from apps.business.tickets.services import ticket_check_in
from apps.business.tickets.signing import secret_from_code, ticket_code
from apps.support.audit.models import AuditEvent
from apps.support.common.errors import ConflictError
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import client_for, staff_member
from tests.race import RETRY_FOR_SECONDS, post_retrying
from tests.sales import paid_order

pytestmark = pytest.mark.django_db

CHECK_INS = "/api/v1/tickets/check-ins/"


@pytest.fixture
def gate():
    return client_for(staff_member(Role.GATE_STAFF))


def scan(client, code, gate_name="Norte"):
    return client.post(CHECK_INS, {"code": code, "gate": gate_name}, format="json")


def ticket_for(slot) -> Ticket:
    order = paid_order(UserFactory(), slot, TicketTypeFactory(), 1)
    return order.tickets.get()


def test_codes_are_signed_and_forgeries_are_refused_before_the_database(gate):
    ticket = ticket_for(TimeSlotFactory())
    code = ticket_code(ticket.secret)
    assert secret_from_code(code) == ticket.secret
    assert secret_from_code(code.lower()) == ticket.secret  # a scanner may lower-case it
    forged = f"PM1-{ticket.secret}-{'0' * 16}"
    other_secret = f"PM1-{'A' * 20}-{code[-16:]}"
    for bad, expected in (
        (forged, "invalid_ticket_code"),
        (other_secret, "invalid_ticket_code"),
        ("hello", "invalid_ticket_code"),
        (ticket.secret, "invalid_ticket_code"),
        ("", "validation_error"),
    ):
        response = scan(gate, bad)
        assert (response.status_code, response.json()["code"]) == (400, expected), bad
    assert CheckIn.objects.count() == 0


def test_a_genuine_code_without_a_ticket_is_unknown(gate, settings):
    code = ticket_code("0123456789ABCDEF0123")
    response = scan(gate, code)
    assert (response.status_code, response.json()["code"]) == (404, "unknown_ticket")


def test_a_ticket_is_accepted_once_and_the_second_scan_says_when_and_where(gate):
    ticket = ticket_for(TimeSlotFactory())
    code = ticket_code(ticket.secret)
    first = scan(gate, code, "Norte")
    assert first.status_code == 201
    assert (first.json()["ticket"]["id"], first.json()["gate"]) == (ticket.pk, "Norte")
    second = scan(gate, code, "Sur")
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "already_checked_in"
    assert body["details"] == {"checked_in_at": first.json()["checked_in_at"], "gate": "Norte"}
    assert list(CheckIn.objects.values_list("ticket", "gate")) == [(ticket.pk, "Norte")]
    assert AuditEvent.objects.filter(action="tickets.ticket.checked_in").count() == 1


def test_a_ticket_for_another_day_is_refused(gate):
    tomorrow = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    slot = TimeSlotFactory(
        starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=1), date=tomorrow.date()
    )
    response = scan(gate, ticket_code(ticket_for(slot).secret))
    assert response.status_code == 409
    assert response.json()["code"] == "wrong_day"
    assert response.json()["details"]["slot_starts_at"] == tomorrow.isoformat()
    assert CheckIn.objects.count() == 0


def test_entry_is_accepted_within_the_slot_and_its_grace_only(settings):
    settings.TICKETS_CHECK_IN_GRACE_MINUTES = 30
    gate_user = staff_member(Role.GATE_STAFF)
    tomorrow = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    tomorrow += timedelta(days=1)
    slot = TimeSlotFactory(
        starts_at=tomorrow, ends_at=tomorrow + timedelta(hours=2), date=tomorrow.date()
    )
    ends = tomorrow + timedelta(hours=2)
    moments = {
        "too_early": tomorrow - timedelta(minutes=31),
        "early_ok": tomorrow - timedelta(minutes=30),
        "late_ok": ends + timedelta(minutes=30),
        "slot_ended": ends + timedelta(minutes=31),
    }
    outcomes = {}
    for name, moment in moments.items():
        ticket = ticket_for(slot)
        try:
            ticket_check_in(
                code=ticket_code(ticket.secret), gate="Norte", actor=gate_user, now=moment
            )
            outcomes[name] = "accepted"
        except ConflictError as error:
            outcomes[name] = error.code
    assert outcomes == {
        "too_early": "too_early",
        "early_ok": "accepted",
        "late_ok": "accepted",
        "slot_ended": "slot_ended",
    }
    assert CheckIn.objects.count() == 2


def test_a_cancelled_order_s_ticket_is_void(gate):
    start = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    slot = TimeSlotFactory(starts_at=start, ends_at=start + timedelta(hours=2), date=start.date())
    owner = UserFactory()
    order = paid_order(owner, slot, TicketTypeFactory(), 1)
    payments.order_cancel(order=order, actor=staff_member(Role.TICKET_OFFICE))
    response = scan(gate, ticket_code(order.tickets.get().secret))
    assert (response.status_code, response.json()["code"]) == (409, "ticket_void")
    assert CheckIn.objects.count() == 0


@pytest.mark.parametrize("role", [None, "visitor", Role.TICKET_OFFICE, Role.FINANCE])
def test_only_gate_staff_check_in(role):
    ticket = ticket_for(TimeSlotFactory())
    user = None if role is None else (UserFactory() if role == "visitor" else staff_member(role))
    response = scan(client_for(user), ticket_code(ticket.secret))
    assert response.status_code == (401 if user is None else 403)
    assert CheckIn.objects.count() == 0


def test_visitors_fetch_only_their_own_tickets_qr_and_pdf():
    slot = TimeSlotFactory()
    ana_ticket = ticket_for(slot)
    ana = ana_ticket.order.user
    stranger = client_for(UserFactory())
    for suffix in ("", "qr/", "pdf/"):
        assert stranger.get(f"/api/v1/tickets/tickets/{ana_ticket.pk}/{suffix}").status_code == 404
        assert (
            client_for(ana).get(f"/api/v1/tickets/tickets/{ana_ticket.pk}/{suffix}").status_code
            == 200
        )
    assert stranger.get("/api/v1/tickets/tickets/").json()["results"] == []
    assert client_for(None).get("/api/v1/tickets/tickets/").status_code == 401


@pytest.mark.skipif(connection.vendor == "sqlite", reason="row locks need PostgreSQL or MySQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_gates_scanning_one_ticket_at_once_admit_it_once():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections
    from django.test import Client
    from rest_framework_simplejwt.tokens import AccessToken

    ticket = ticket_for(TimeSlotFactory())
    code = ticket_code(ticket.secret)
    tokens = [str(AccessToken.for_user(staff_member(Role.GATE_STAFF))) for _ in range(6)]
    Client().get("/health/live/")  # middleware set up once, before the threads
    together = Barrier(len(tokens), timeout=RETRY_FOR_SECONDS)

    def scan_at_gate(index):
        client = Client()
        together.wait()
        try:
            # A scanner retries "busy" as a gate device would (the lock waits are short, but a
            # loaded machine can stretch them past LOCK_TIMEOUT_SECONDS).
            response = post_retrying(
                client, CHECK_INS, {"code": code, "gate": f"Gate {index}"}, tokens[index]
            )
            return response.status_code, response.json()[
                "code"
            ] if response.status_code != 201 else "accepted"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        outcomes = sorted(pool.map(scan_at_gate, range(len(tokens))))
    assert outcomes == [(201, "accepted")] + [(409, "already_checked_in")] * 5
    assert CheckIn.objects.filter(ticket=ticket).count() == 1


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_answer_to_a_scan_is_what_the_check_in_serializer_writes(gate, language):
    """The view writes it by hand (a gate scans many a minute); the list reads it through
    ``CheckInSerializer``: both say the same."""
    ticket = ticket_for(TimeSlotFactory())
    answer = gate.post(
        CHECK_INS,
        {"code": ticket_code(ticket.secret), "gate": "Norte"},
        format="json",
        headers={"Accept-Language": language},
    )

    assert answer.status_code == 201
    with translation.override(language):
        written = CheckInSerializer(CheckIn.objects.get()).data
    assert answer.json() == json.loads(json.dumps(written))
    assert (answer.json()["ticket"]["status"], answer.json()["gate"]) == ("valid", "Norte")
    assert answer.json()["ticket"]["checked_in_at"] == answer.json()["checked_in_at"]
