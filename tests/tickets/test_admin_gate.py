"""The gate's page of the back office (``/admin/tickets/checkin/scan/``): one POST per scan,
through ``tickets.ticket_check_in`` as ``POST /api/v1/tickets/check-ins/``; the answer in
words (and colour), the field empty for the next scan."""

import datetime

import pytest
from django.utils import timezone

from apps.business.payments import services as payments
from apps.business.tickets.models import CheckIn, Ticket
from apps.business.tickets.signing import ticket_code
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import staff_member
from tests.sales import paid_order
from tests.tickets.pages import adult_type, signed_in, slot_at

pytestmark = pytest.mark.django_db

SCAN = "/admin/tickets/checkin/scan/"


adult = pytest.fixture(adult_type)


@pytest.fixture
def now_slot():
    return slot_at()


def ticket_of(user, slot, adult) -> Ticket:
    return paid_order(user, slot, adult).tickets.get()


@pytest.fixture
def gate(client):
    return signed_in(client, Role.GATE_STAFF)


def scan(client, code, gate="Norte", language="en"):
    return client.post(SCAN, {"code": code, "gate": gate}, HTTP_ACCEPT_LANGUAGE=language)


def answer(response):
    return response.context["answer"]["word"], response.context["answer"]["kind"]


def test_a_valid_ticket_is_admitted_once_with_its_type_and_slot(
    client, gate, user, now_slot, adult
):
    ticket = ticket_of(user, now_slot, adult)

    response = scan(client, ticket_code(ticket.secret))

    assert response.status_code == 200
    assert answer(response) == ("VALID", "valid")
    starts, ends = timezone.localtime(now_slot.starts_at), timezone.localtime(now_slot.ends_at)
    check_in = CheckIn.objects.get()
    assert response.context["answer"]["detail"] == (
        f"Adult · {starts:%Y-%m-%d %H:%M}-{ends:%H:%M} · admitted at "
        f"{timezone.localtime(check_in.checked_in_at):%H:%M:%S}"
    )
    assert (check_in.ticket, check_in.gate, check_in.checked_in_by) == (ticket, "Norte", gate)
    assert AuditEvent.objects.filter(action="tickets.ticket.checked_in").count() == 1
    html = response.content.decode()
    assert '<span class="pm-word">VALID</span>' in html
    assert 'class="pm-scan-answer pm-valid"' in html
    # Ready for the next scan: the code field empty and focused, the gate remembered.
    assert (
        'name="code" id="id_code" maxlength="200" required autofocus autocomplete="off" '
        'spellcheck="false" value=""'
    ) in html
    assert 'name="gate" id="id_gate" maxlength="64" required value="Norte"' in html
    assert client.session["tickets.gate"] == "Norte"
    assert 'value="Norte"' in client.get(SCAN).content.decode()


def test_a_second_scan_says_already_used_when_and_where(client, gate, user, now_slot, adult):
    ticket = ticket_of(user, now_slot, adult)
    scan(client, ticket_code(ticket.secret), gate="Norte")

    response = scan(client, ticket_code(ticket.secret), gate="Sur")

    first = CheckIn.objects.get()
    assert answer(response) == ("ALREADY USED", "used")
    assert response.context["answer"]["detail"] == (
        f"Already used at {timezone.localtime(first.checked_in_at):%H:%M:%S} at Norte."
    )
    assert CheckIn.objects.count() == 1
    assert client.session["tickets.gate"] == "Sur"


@pytest.mark.parametrize(
    "code",
    [
        "not a ticket",
        "PM1-0123456789ABCDEF0123-0123456789ABCDEF",  # a forged signature
        ticket_code("0123456789ABCDEF0123"),  # genuine, but no ticket has it
    ],
)
def test_a_bad_or_unknown_code_is_invalid(client, gate, code):
    response = scan(client, code)

    assert answer(response) == ("INVALID", "invalid")
    assert CheckIn.objects.count() == 0
    assert '<span class="pm-word">INVALID</span>' in response.content.decode()


def test_a_ticket_of_another_day_is_not_today(client, gate, user, adult):
    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    ticket = ticket_of(user, slot_at(tomorrow), adult)

    response = scan(client, ticket_code(ticket.secret))

    assert answer(response) == ("NOT TODAY", "wrong-time")
    assert response.context["answer"]["detail"] == (
        f"This ticket is for {timezone.localtime(tomorrow).date().isoformat()}."
    )
    assert CheckIn.objects.count() == 0


def test_a_ticket_of_a_later_slot_today_is_the_wrong_slot(client, gate, user, adult):
    later = timezone.localtime() + datetime.timedelta(hours=5)
    today = timezone.localdate()
    ticket = ticket_of(user, slot_at(later, date=today), adult)

    response = scan(client, ticket_code(ticket.secret))

    assert answer(response) == ("WRONG SLOT", "wrong-time")
    assert response.context["answer"]["detail"].startswith("Too early: entry from ")
    assert CheckIn.objects.count() == 0


def test_a_cancelled_ticket_is_void(client, gate, user, administrator, now_slot, adult):
    ticket = ticket_of(user, now_slot, adult)
    payments.order_cancel(order=ticket.order, actor=administrator)

    response = scan(client, ticket_code(ticket.secret))

    assert answer(response) == ("VOID", "void")
    assert response.context["answer"]["detail"] == "This ticket was cancelled."
    assert CheckIn.objects.count() == 0


def test_the_answer_is_in_spanish_for_spanish_staff(client, user, now_slot, adult):
    """The profile's language decides, whatever the browser asks."""
    client.force_login(staff_member(Role.GATE_STAFF, preferred_language="es"))
    ticket = ticket_of(user, now_slot, adult)
    scan(client, ticket_code(ticket.secret), language="en")

    response = scan(client, ticket_code(ticket.secret), language="en")

    assert answer(response)[0] == "YA USADO"


def test_a_missing_gate_is_a_form_error_and_admits_nobody(client, gate, user, now_slot, adult):
    ticket = ticket_of(user, now_slot, adult)

    response = scan(client, ticket_code(ticket.secret), gate="")

    assert response.context["answer"] is None
    assert list(response.context["form"].errors) == ["gate"]
    assert CheckIn.objects.count() == 0


def test_an_administrator_checks_in_too(client, administrator, user, now_slot, adult):
    administrator.preferred_language = "en"
    administrator.save(update_fields=["preferred_language"])
    client.force_login(administrator)
    ticket = ticket_of(user, now_slot, adult)

    assert answer(scan(client, ticket_code(ticket.secret))) == ("VALID", "valid")
    assert CheckIn.objects.get().checked_in_by == administrator


@pytest.mark.parametrize("role", [Role.TICKET_OFFICE, Role.FINANCE, Role.CURATOR])
def test_staff_the_api_does_not_let_check_in_are_refused(client, user, now_slot, adult, role):
    """The ticket office reads check-ins in the API but does not make them: 403 here too."""
    ticket = ticket_of(user, now_slot, adult)
    client.force_login(staff_member(role))

    assert client.get(SCAN).status_code == 403
    assert scan(client, ticket_code(ticket.secret)).status_code == 403
    assert CheckIn.objects.count() == 0
    assert AuditEvent.objects.filter(action="tickets.ticket.checked_in").count() == 0


def test_a_visitor_is_sent_to_sign_in(client, user, now_slot, adult):
    ticket = ticket_of(user, now_slot, adult)
    client.force_login(UserFactory())

    response = scan(client, ticket_code(ticket.secret))

    assert response.status_code == 302
    assert CheckIn.objects.count() == 0


@pytest.mark.parametrize(
    ("listing", "page", "user_of_it", "other"),
    [
        ("/admin/tickets/checkin/", SCAN, Role.GATE_STAFF, Role.TICKET_OFFICE),
        ("/admin/payments/order/", "/admin/payments/order/sell/", Role.TICKET_OFFICE, Role.FINANCE),
    ],
)
def test_the_lists_link_to_their_task_page_for_who_may_use_it(
    client, listing, page, user_of_it, other
):
    """The gate's scan page from the check-ins, the counter sale from the orders."""
    signed_in(client, user_of_it)
    assert page in client.get(listing).content.decode()
    signed_in(client, other)
    response = client.get(listing)
    assert response.status_code == 200
    assert page not in response.content.decode()
