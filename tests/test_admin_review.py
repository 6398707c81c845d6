"""An outsider's review of the back office's new pages (issue 17): hostile input, roles, a
button pressed twice, reflected input. Every answer is a form error, a message or a 4xx,
never a 500, and a refused request leaves nothing behind (rows and audit entries counted
before and after)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from apps.business.infrastructure.models import WaterReading
from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Channel, Order, OrderStatus, Payment, Refund
from apps.business.tickets.models import CheckIn, Ticket, TimeSlot
from apps.business.wildlife import services as wildlife
from apps.business.wildlife.models import Animal, AnimalLocation
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import HabitatFactory, SpeciesFactory, UserFactory
from tests.helpers import staff_member
from tests.tickets.pages import adult_type, signed_in, slot_at

pytestmark = pytest.mark.django_db

SELL = "/admin/payments/order/sell/"
SCAN = "/admin/tickets/checkin/scan/"
HUGE = 10**30
ROLES = [role.value for role in Role]


def snapshot() -> tuple[int, ...]:
    """How many rows the pages under review may write, and audit entries."""
    return (
        Order.objects.count(),
        Payment.objects.count(),
        Refund.objects.count(),
        Ticket.objects.count(),
        CheckIn.objects.count(),
        AnimalLocation.objects.count(),
        WaterReading.objects.count(),
        AuditEvent.objects.count(),
        sum(TimeSlot.objects.values_list("sold", flat=True)),
    )


@pytest.fixture
def slot():
    return slot_at(capacity=4)


adult = pytest.fixture(adult_type)


@pytest.fixture
def cashier(client):
    return signed_in(client, Role.TICKET_OFFICE)


def sale_key(response) -> str:
    """The one-time key the sale page's form carries."""
    found = re.search(r'name="sale_key" value="([^"]+)"', response.content.decode())
    assert found, "the sale form carries no one-time key"
    return found.group(1)


def sold_order(cashier, slot, adult, quantity=1) -> Order:
    return payments.order_buy(
        actor=cashier,
        lines=[
            LineRequest(
                kind="ticket",
                quantity=quantity,
                fields={"slot": slot.pk, "ticket_type": adult.pk},
                index=0,
            )
        ],
        method="cash",
        channel=Channel.COUNTER,
        email="",
    ).order


# --- The counter sale ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": str(HUGE)},
        {"quantity": "-1"},
        {"quantity": "0"},
        {"quantity": "dos"},
        {"quantity": "1.5"},
        {"slot": "999999999"},
        {"slot": str(HUGE)},
        {"slot": "abc"},
        {"slot": ""},
        {"method": "stripe"},
        {"method": ""},
        {"email": "x" * 5000 + "@example.com"},
        {"email": "no es un email"},
    ],
)
def test_hostile_sale_input_is_a_form_error_and_sells_nothing(client, cashier, slot, adult, change):
    data = {"slot": slot.pk, "method": "cash", "email": "", f"quantity_{adult.pk}": "1"}
    if "quantity" in change:
        data[f"quantity_{adult.pk}"] = change.pop("quantity")
    data.update(change)
    before = snapshot()

    response = client.post(SELL, data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert snapshot() == before


def test_a_ticket_type_id_given_as_the_slot_is_refused(client, cashier, slot, adult):
    before = snapshot()
    other = slot.pk + adult.pk + 1000  # an id that is no slot
    response = client.post(SELL, {"slot": other, "method": "cash", f"quantity_{adult.pk}": "1"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["slot"]
    assert snapshot() == before


def test_a_slot_of_a_past_day_is_refused_by_the_service(client, cashier, adult):
    yesterday = timezone.localtime() - datetime.timedelta(days=1)
    past = slot_at(yesterday.replace(hour=10, minute=0, second=0, microsecond=0))
    before = snapshot()

    response = client.post(SELL, {"slot": past.pk, "method": "cash", f"quantity_{adult.pk}": "1"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert snapshot() == before


@pytest.mark.parametrize("query", ["date=garbage", f"sold={HUGE}", "sold=-1", "date=99999-01-01"])
def test_odd_query_strings_of_the_sale_page_are_harmless(client, cashier, slot, adult, query):
    assert client.get(f"{SELL}?{query}").status_code == 200


def test_the_sale_button_pressed_twice_sells_once(client, cashier, slot, adult):
    page = client.get(SELL)
    data = {
        "slot": slot.pk,
        "method": "cash",
        "email": "",
        f"quantity_{adult.pk}": "2",
        "sale_key": sale_key(page),
    }

    first = client.post(SELL, data)
    second = client.post(SELL, data)

    order = Order.objects.get()
    assert first.status_code == second.status_code == 302
    assert (
        first["Location"]
        == second["Location"]
        == (f"{SELL}?date={slot.date.isoformat()}&sold={order.pk}")
    )
    assert Ticket.objects.count() == 2
    assert TimeSlot.objects.get().sold == 2
    assert AuditEvent.objects.filter(action="payments.order.created").count() == 1


def test_each_sale_page_carries_a_new_key(client, cashier, slot, adult):
    assert sale_key(client.get(SELL)) != sale_key(client.get(SELL))


def test_a_key_of_another_sale_does_not_sell_a_different_basket(client, cashier, slot, adult):
    key = sale_key(client.get(SELL))
    base = {"slot": slot.pk, "method": "cash", "email": "", "sale_key": key}
    client.post(SELL, {**base, f"quantity_{adult.pk}": "1"})
    before = snapshot()

    response = client.post(SELL, {**base, f"quantity_{adult.pk}": "3"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert snapshot() == before


def test_a_refused_sale_may_be_corrected_and_sold_with_the_page_shown_again(
    client, cashier, slot, adult
):
    key = sale_key(client.get(SELL))
    base = {"slot": slot.pk, "method": "cash", "email": "", "sale_key": key}
    refused = client.post(SELL, {**base, f"quantity_{adult.pk}": "5"})  # 4 seats left
    assert refused.status_code == 200
    assert Order.objects.count() == 0

    again = client.post(SELL, {**base, f"quantity_{adult.pk}": "2", "sale_key": sale_key(refused)})

    assert again.status_code == 302
    assert Order.objects.get().total == Decimal("5800.00")


@pytest.mark.parametrize("key", ["con espacio", "x" * 300, "ñ"])
def test_a_malformed_sale_key_is_a_form_error(client, cashier, slot, adult, key):
    before = snapshot()
    response = client.post(
        SELL, {"slot": slot.pk, "method": "cash", f"quantity_{adult.pk}": "1", "sale_key": key}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert snapshot() == before


def test_the_sale_page_needs_the_csrf_token(slot, adult):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_member(Role.TICKET_OFFICE))
    before = snapshot()

    response = browser.post(SELL, {"slot": slot.pk, "method": "cash", f"quantity_{adult.pk}": 1})

    assert response.status_code == 403
    assert snapshot() == before


# --- Cancel and refund ---------------------------------------------------------------------


def order_page(order, what):
    return f"/admin/payments/order/{order.pk}/{what}/"


@pytest.mark.parametrize("what", ["cancel", "refund"])
@pytest.mark.parametrize("order_id", ["999999", str(HUGE)])
def test_cancel_or_refund_of_an_unknown_order_is_404(client, administrator, what, order_id):
    client.force_login(administrator)
    assert client.get(f"/admin/payments/order/{order_id}/{what}/").status_code == 404
    assert client.post(f"/admin/payments/order/{order_id}/{what}/").status_code == 404


def test_refund_pressed_twice_refunds_once(client, slot, adult):
    order = sold_order(staff_member(Role.TICKET_OFFICE), slot, adult, 2)
    client.force_login(staff_member(Role.FINANCE))

    first = client.post(order_page(order, "refund"), {"reason": "Lluvia"})
    second = client.post(order_page(order, "refund"), {"reason": "Lluvia"}, follow=True)

    assert first.status_code == 302
    assert second.status_code == 200
    assert Refund.objects.count() == 1
    assert Refund.objects.get().amount == Decimal("5800.00")
    assert Order.objects.get().status == OrderStatus.CANCELED
    assert any(m.level_tag == "error" for m in second.context["messages"])


def test_a_too_long_reason_is_a_form_error_and_refunds_nothing(client, slot, adult):
    order = sold_order(staff_member(Role.TICKET_OFFICE), slot, adult)
    client.force_login(staff_member(Role.FINANCE))
    before = snapshot()

    response = client.post(order_page(order, "refund"), {"reason": "x" * 5000})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert snapshot() == before


# Who may cancel or refund any order: the API's payments_orders_refunds_create (admin,
# finance) and the staff who see every order (ORDER_STAFF) for a cancellation.
REFUNDERS = {Role.ADMINISTRATOR, Role.FINANCE}
CANCELLERS = {Role.ADMINISTRATOR, Role.FINANCE, Role.TICKET_OFFICE}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("what", ["cancel", "refund"])
def test_cancel_and_refund_as_every_role(client, slot, adult, role, what):
    order = sold_order(staff_member(Role.TICKET_OFFICE), slot, adult)
    client.force_login(staff_member(role))
    before = snapshot()

    response = client.post(order_page(order, what), {"reason": "Prueba"})

    allowed = role in (REFUNDERS if what == "refund" else CANCELLERS)
    if allowed and what == "cancel" and role == Role.FINANCE:
        # Finance is bound by the cancellation deadline (the slot is now): the service's
        # refusal, as in the API.
        assert response.status_code == 302
        assert snapshot() == before
    elif allowed:
        assert response.status_code == 302
        assert Order.objects.get().status == OrderStatus.CANCELED
    else:
        assert response.status_code == 403
        assert snapshot() == before
        assert Order.objects.get().status == OrderStatus.PAID


@pytest.mark.parametrize("staff", [False, True])
@pytest.mark.parametrize(
    "url",
    ["sell", "scan", "cancel", "refund", "move", "release", "status", "water", "publish"],
)
def test_accounts_without_a_role_change_nothing(client, slot, adult, staff, url):
    order = sold_order(staff_member(Role.TICKET_OFFICE), slot, adult)
    animal = wildlife.animal_register(
        actor=staff_member(Role.CURATOR),
        habitat=HabitatFactory(),
        arrived_at=None,
        reason="Llegada",
        data={"institutional_id": "PMP-1", "species": SpeciesFactory(), "origin": "rescued"},
    )
    habitat = HabitatFactory()
    client.force_login(UserFactory(is_staff=staff))
    before = snapshot()
    target, data = {
        "sell": (SELL, {"slot": slot.pk, "method": "cash", f"quantity_{adult.pk}": "1"}),
        "scan": (SCAN, {"code": "X", "gate": "Norte"}),
        "cancel": (order_page(order, "cancel"), {}),
        "refund": (order_page(order, "refund"), {}),
        "move": (
            f"/admin/wildlife/animal/{animal.pk}/move/",
            {"habitat": habitat.pk, "reason": "Prueba"},
        ),
        "release": (
            f"/admin/wildlife/animal/{animal.pk}/release/",
            {"released_on": "2026-01-01", "place": "Mar"},
        ),
        "status": (
            f"/admin/wildlife/animal/{animal.pk}/status/",
            {"status": "deceased", "status_date": "2026-01-01", "reason": "Prueba"},
        ),
        "water": ("/admin/infrastructure/waterreading/add/", {"habitat": habitat.pk}),
        "publish": ("/admin/exhibitions/exhibition/", {"action": "publish"}),
    }[url]

    response = client.post(target, data)

    if staff:
        assert response.status_code == 403
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert snapshot() == before


# --- The gate ------------------------------------------------------------------------------


@pytest.fixture
def gate(client):
    return signed_in(client, Role.GATE_STAFF)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"code": "", "gate": "Norte"},
        {"code": "PM-1", "gate": ""},
        {"code": "x" * 10_000, "gate": "Norte"},
        {"code": "PM-1", "gate": "g" * 10_000},
    ],
)
def test_hostile_scans_are_form_errors_and_admit_nobody(client, gate, data):
    before = snapshot()
    response = client.post(SCAN, data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert snapshot() == before


def test_the_scanned_code_is_shown_escaped(client, gate):
    response = client.post(SCAN, {"code": "<script>alert(1)</script>", "gate": "<b>Norte</b>"})
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["answer"]["kind"] == "invalid"
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Norte</b>" not in html


def test_a_reloaded_scan_answers_already_used(client, gate, user, adult):
    slot = slot_at()
    order = sold_order(staff_member(Role.TICKET_OFFICE), slot, adult)
    from apps.business.tickets.signing import ticket_code

    code = ticket_code(Ticket.objects.get(order=order).secret)
    first = client.post(SCAN, {"code": code, "gate": "Norte"})
    second = client.post(SCAN, {"code": code, "gate": "Norte"})

    assert first.context["answer"]["kind"] == "valid"
    assert second.context["answer"]["kind"] == "used"
    assert CheckIn.objects.count() == 1


# Who the API lets check in (tickets_check_ins_create).
SCANNERS = {Role.ADMINISTRATOR, Role.GATE_STAFF}


@pytest.mark.parametrize("role", ROLES)
def test_the_scan_page_as_every_role(client, role, adult):
    slot = slot_at()
    order = sold_order(staff_member(Role.TICKET_OFFICE), slot, adult)
    from apps.business.tickets.signing import ticket_code

    code = ticket_code(Ticket.objects.get(order=order).secret)
    client.force_login(staff_member(role))
    before = snapshot()

    response = client.post(SCAN, {"code": code, "gate": "Norte"})

    if role in SCANNERS:
        assert response.status_code == 200
        assert CheckIn.objects.count() == 1
    else:
        assert response.status_code == 403
        assert snapshot() == before


# --- Animal workflows ----------------------------------------------------------------------


@pytest.fixture
def curator(client):
    return signed_in(client, Role.CURATOR)


@pytest.fixture
def animal(curator):
    return wildlife.animal_register(
        actor=curator,
        habitat=HabitatFactory(name="Laguna"),
        arrived_at=None,
        reason="Llegada",
        data={"institutional_id": "PMP-9", "species": SpeciesFactory(), "origin": "rescued"},
    )


@pytest.mark.parametrize("workflow", ["move", "release", "status"])
@pytest.mark.parametrize("object_id", ["999999", str(HUGE), "abc", "-1"])
def test_a_workflow_of_an_unknown_animal_is_404(client, curator, workflow, object_id):
    assert client.get(f"/admin/wildlife/animal/{object_id}/{workflow}/").status_code == 404
    assert client.post(f"/admin/wildlife/animal/{object_id}/{workflow}/", {}).status_code == 404


@pytest.mark.parametrize(
    ("workflow", "data"),
    [
        ("move", {}),
        ("move", {"habitat": "999999", "reason": "x"}),
        ("move", {"habitat": str(HUGE), "reason": "x"}),
        ("move", {"habitat": "abc", "reason": "x"}),
        ("move", {"habitat": "HABITAT", "reason": "r" * 5000}),
        ("move", {"habitat": "HABITAT", "reason": "x", "moved_at_0": "mañana", "moved_at_1": "x"}),
        ("release", {}),
        ("release", {"released_on": "2026-02-30", "place": "Mar"}),
        ("release", {"released_on": "2026-01-01", "place": "p" * 5000}),
        ("status", {"status": "in_collection", "status_date": "2026-01-01", "reason": "x"}),
        ("status", {"status": "deceased", "status_date": "hoy", "reason": "x"}),
    ],
)
def test_hostile_workflow_input_is_a_form_error_and_changes_nothing(
    client, curator, animal, workflow, data
):
    other = HabitatFactory()
    data = {key: (other.pk if value == "HABITAT" else value) for key, value in data.items()}
    before = snapshot()

    response = client.post(f"/admin/wildlife/animal/{animal.pk}/{workflow}/", data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert snapshot() == before
    assert Animal.objects.get().current_habitat.name == "Laguna"


def test_the_move_action_with_an_unknown_habitat_moves_nobody(client, curator, animal):
    before = snapshot()
    response = client.post(
        "/admin/wildlife/animal/",
        {
            "action": "move_animals",
            "_selected_action": [animal.pk],
            "habitat": str(HUGE),
            "reason": "x",
        },
        follow=True,
    )
    assert response.status_code == 200
    # Django's own answer to an action form that does not validate.
    assert [m.level_tag for m in response.context["messages"]] == ["warning"]
    assert snapshot() == before


# --- Water readings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"temperature": str(HUGE)},
        {"ph": "-99999999999"},
        {"salinity": "NaN"},
        {"dissolved_oxygen": "Infinity"},
        {"temperature": "veinte"},
        {"habitat": "999999"},
        {"habitat": str(HUGE)},
        {"taken_at_0": "2026-02-30"},
        {"notes": "n" * 100_000},
    ],
)
def test_hostile_water_readings_are_form_errors_and_record_nothing(client, values):
    client.force_login(staff_member(Role.AQUARIST))
    habitat = HabitatFactory()
    now = timezone.localtime()
    data = {
        "habitat": habitat.pk,
        "taken_at_0": now.date().isoformat(),
        "taken_at_1": now.strftime("%H:%M:%S"),
        "temperature": "25.0",
        **values,
    }
    before = snapshot()

    response = client.post("/admin/infrastructure/waterreading/add/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert snapshot() == before


# --- Exhibitions ---------------------------------------------------------------------------


@pytest.mark.parametrize("ids", [["999999"], [str(HUGE)], ["abc"], []])
def test_publishing_unknown_exhibitions_changes_nothing(client, ids):
    client.force_login(staff_member(Role.CONTENT_EDITOR))
    before = snapshot()
    response = client.post(
        "/admin/exhibitions/exhibition/",
        {"action": "publish", "_selected_action": ids},
        follow=True,
    )
    assert response.status_code == 200
    assert not any(m.level_tag == "success" for m in response.context["messages"])
    assert snapshot() == before


# --- Redirects -----------------------------------------------------------------------------


def test_the_sign_in_page_does_not_send_anyone_elsewhere(client):
    member = staff_member(Role.TICKET_OFFICE)
    response = client.post(
        "/admin/login/?next=https://evil.example/",
        {
            "username": member.email,
            "password": "a-long-enough-password",
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


# --- The dashboard -------------------------------------------------------------------------


def test_a_slot_at_half_past_eleven_at_night_is_on_its_own_day(client):
    client.force_login(staff_member(Role.TICKET_OFFICE))
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    late = TimeSlot.objects.create(
        date=today,
        starts_at=datetime.datetime.combine(today, datetime.time(23, 30), tz),
        ends_at=datetime.datetime.combine(today, datetime.time(23, 59), tz),
        capacity=5,
    )
    tomorrow = today + datetime.timedelta(days=1)
    TimeSlot.objects.create(
        date=tomorrow,
        starts_at=datetime.datetime.combine(tomorrow, datetime.time(0, 0), tz),
        ends_at=datetime.datetime.combine(tomorrow, datetime.time(0, 30), tz),
        capacity=5,
    )

    response = client.get("/admin/")

    [panel] = [p for p in response.context["dashboard"] if p.key == "slots"]
    assert [slot.pk for slot in panel.data["slots"]] == [late.pk]


# The panels each role sees, by what the API lets it read.
PANELS = {
    Role.ADMINISTRATOR: None,  # every panel
    Role.CURATOR: ["water_alerts", "animals_in_care", "weights_overdue"],
    Role.VETERINARIAN: ["water_alerts", "animals_in_care", "weights_overdue"],
    Role.AQUARIST: ["water_alerts"],
    Role.EDUCATOR: ["sessions"],
    Role.CONTENT_EDITOR: [],
    Role.TICKET_OFFICE: ["slots"],
    Role.GATE_STAFF: ["slots"],
    Role.FINANCE: ["slots", "sales", "donations", "webhook_events", "refunds"],
    Role.AUDITOR: ["sales", "donations"],
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_the_panels_the_api_lets_it_read(client, role):
    client.force_login(staff_member(role))
    keys = [panel.key for panel in client.get("/admin/").context["dashboard"]]
    if PANELS[Role(role)] is None:
        assert len(keys) == 9
    else:
        assert keys == PANELS[Role(role)]


def test_a_staff_account_without_a_role_sees_no_panel(client):
    client.force_login(UserFactory(is_staff=True))
    response = client.get("/admin/")
    assert response.status_code == 200
    assert response.context["dashboard"] == []
