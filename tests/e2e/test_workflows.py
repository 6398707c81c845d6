"""Each role's main task in the back office, in a real browser (docs/adr/0052): what the page
shows is read from it, what was written is read from the database. Staff are English speakers
(their profile's language decides the back office's)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.exhibitions.models import Exhibition
from apps.business.infrastructure import services as infrastructure
from apps.business.infrastructure.models import WaterAlert, WaterReading
from apps.business.payments.models import Order, OrderStatus, Payment, Refund
from apps.business.tickets.models import CheckIn, Ticket, TimeSlot
from apps.business.tickets.signing import ticket_code
from apps.business.wildlife.models import Animal, AnimalLocation
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.e2e.browser import english_staff, sign_in, submit
from tests.exhibitions.conftest import make
from tests.factories import (
    HabitatFactory,
    SpeciesFactory,
    TicketTypeFactory,
    TimeSlotFactory,
    UserFactory,
)
from tests.sales import paid_order
from tests.tickets.pages import adult_type, slot_at
from tests.wildlife.test_admin_workflows import locations, registered

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def rows(page, selector="#result_list tbody tr"):
    """The rows of a table as the page shows them, one list of cell texts per row."""
    return [
        [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        for row in page.locator(selector).all()
    ]


def messages(page):
    return page.locator("ul.messagelist li").all_inner_texts()


def test_the_ticket_office_sells_two_tickets_at_the_counter_in_one_submit(browser_page, steps):
    page = browser_page
    cashier = english_staff(Role.TICKET_OFFICE)
    slot = slot_at(capacity=4)
    adult = adult_type()
    child = TicketTypeFactory(code="child", name_en="Child", price=Decimal("1500.00"))
    sign_in(page, steps, cashier.email)
    page.goto("/admin/payments/order/")
    page.click("text=Sell at the counter")
    page.wait_for_url("**/admin/payments/order/sell/")
    steps("the counter sale")
    page.select_option("#id_slot", str(slot.pk))
    page.fill(f"#id_quantity_{adult.pk}", "1")
    page.fill(f"#id_quantity_{child.pk}", "1")
    page.fill("#id_email", "familia@example.com")
    page.check("input[name=method][value=cash]")
    steps("filled in")
    submit(page, ".pm-sale input[type=submit]")
    steps("sold")

    order = Order.objects.get()
    tickets = list(Ticket.objects.filter(order=order).order_by("id"))
    assert page.inner_text(".pm-sold .pm-order-code") == order.code
    assert page.inner_text(".pm-sold strong") == "4400.00 CRC"
    assert page.locator(".pm-sold li code").all_inner_texts() == [
        ticket_code(ticket.secret) for ticket in tickets
    ]
    assert (order.channel, order.email, order.status, order.total) == (
        "counter",
        "familia@example.com",
        OrderStatus.PAID,
        Decimal("4400.00"),
    )
    assert list(Payment.objects.values_list("method", "status", "amount", "created_by")) == [
        ("cash", "succeeded", Decimal("4400.00"), cashier.pk)
    ]
    assert [ticket.ticket_type.code for ticket in tickets] == ["adult", "child"]
    assert TimeSlot.objects.get().sold == 2


def test_gate_staff_scan_a_ticket_valid_then_already_used_and_garbage_invalid(browser_page, steps):
    page = browser_page
    order = paid_order(UserFactory(), slot_at(), adult_type(), quantity=2)
    first, _second = Ticket.objects.filter(order=order).order_by("id")
    gate = english_staff(Role.GATE_STAFF)
    sign_in(page, steps, gate.email)
    page.goto("/admin/tickets/checkin/scan/")
    steps("the scan page")
    assert page.evaluate("() => document.activeElement.id") == "id_code"
    page.fill("#id_gate", "North")

    def scan(code: str, step: str) -> tuple[str, str, str]:
        page.fill("#id_code", code)
        with page.expect_navigation():
            page.press("#id_code", "Enter")
        steps(step)
        return (
            page.inner_text(".pm-scan-answer .pm-word"),
            page.evaluate("() => document.activeElement.id"),
            page.input_value("#id_code"),
        )

    assert scan(ticket_code(first.secret), "valid") == ("VALID", "id_code", "")
    assert page.input_value("#id_gate") == "North"
    assert scan(ticket_code(first.secret), "already used") == ("ALREADY USED", "id_code", "")
    assert scan("not-a-ticket-code", "invalid") == ("INVALID", "id_code", "")
    assert list(CheckIn.objects.values_list("ticket", "gate", "checked_in_by")) == [
        (first.pk, "North", gate.pk)
    ]


def test_an_aquarist_records_a_reading_out_of_range_and_sees_the_alert_open(browser_page, steps):
    page = browser_page
    aquarist = english_staff(Role.AQUARIST)
    habitat = HabitatFactory(name="Arrecife")
    infrastructure.water_range_set(
        habitat=habitat, parameter="ph", minimum=Decimal("7.800"), maximum=Decimal("8.400")
    )
    sign_in(page, steps, aquarist.email)
    assert page.inner_text("#panel-water_alerts p") == "No open alerts."
    page.goto("/admin/infrastructure/waterreading/")
    page.click("a.addlink")
    page.wait_for_url("**/admin/infrastructure/waterreading/add/")
    steps("the add form")
    page.select_option("#id_habitat", str(habitat.pk))
    page.click(".field-taken_at .datetimeshortcuts a:text-is('Now')")
    page.click(".field-taken_at .datetimeshortcuts a:text-is('Today')")
    page.fill("#id_ph", "7.2")
    steps("filled in")
    submit(page, "input[name=_save]")
    steps("the list after saving")
    reading = WaterReading.objects.get()
    assert messages(page) == [f"The water reading “{reading}” was added successfully."]
    assert [(row[0], row[4], row[-1]) for row in rows(page)] == [
        ("Arrecife", "7.200", '{"ph": "low"}')
    ]

    page.goto("/admin/")
    steps("the dashboard")
    # Habitat, parameter (direction), last value, hours open.
    assert [row[:3] for row in rows(page, "#panel-water_alerts tbody tr")] == [
        ["Arrecife", "pH (Low)", "7.200"]
    ]
    page.click("#panel-water_alerts .dashboard-panel-link a")
    steps("the open alerts")
    assert [row[:4] for row in rows(page)] == [["Arrecife", "pH", "Low", "7.200"]]
    alert = WaterAlert.objects.get()
    assert (reading.taken_by, reading.ph, reading.out_of_range) == (
        aquarist,
        Decimal("7.200"),
        {"ph": "low"},
    )
    assert (alert.habitat, alert.last_reading, alert.closed_at) == (habitat, reading, None)


def test_a_curator_moves_an_animal_to_another_habitat_from_its_page(browser_page, steps):
    page = browser_page
    curator = english_staff(Role.CURATOR, email="curadora@parquemarino.test")
    lagoon, reef = HabitatFactory(name="Laguna"), HabitatFactory(name="Arrecife")
    animal = registered(lagoon, actor=curator)
    sign_in(page, steps, curator.email)
    page.goto(f"/admin/wildlife/animal/{animal.pk}/change/")
    steps("the animal")
    page.click("a.workflow-link:text-is('Move to another habitat')")
    page.wait_for_url(f"**/admin/wildlife/animal/{animal.pk}/move/")
    steps("the move form")
    page.select_option("#id_habitat", str(reef.pk))
    page.fill("#id_reason", "Quarantine over")
    steps("filled in")
    submit(page, "input[name=_run]")
    steps("moved")
    assert page.url.endswith(f"/admin/wildlife/animal/{animal.pk}/change/")
    assert messages(page) == [f"{animal} moved to Arrecife."]
    animal.refresh_from_db()
    assert animal.current_habitat == reef
    assert locations(animal) == [
        ("Laguna", "Llegada", "curadora@parquemarino.test"),
        ("Arrecife", "Quarantine over", "curadora@parquemarino.test"),
    ]
    event = AuditEvent.objects.get(action="wildlife.animal.moved")
    assert (event.actor_id, event.changes) == (
        curator.pk,
        {"current_habitat": [lagoon.pk, reef.pk]},
    )


def test_a_content_editor_publishes_an_exhibition_from_the_list(browser_page, steps):
    page = browser_page
    editor = english_staff(Role.CONTENT_EDITOR)
    draft = make(editor)
    other = make(editor, slug="manglar")
    sign_in(page, steps, editor.email)
    page.goto("/admin/exhibitions/exhibition/")
    steps("the exhibitions")
    page.check(f"input[name=_selected_action][value='{draft.pk}']")
    page.select_option("select[name=action]", "publish")
    steps("publish selected")
    submit(page, "#changelist-form button[name=index]")
    steps("published")
    assert messages(page) == ["1 exhibition published."]
    row = Exhibition.objects.get(pk=draft.pk)
    assert (row.live, row.has_unpublished_changes, row.live_revision) == (
        True,
        False,
        row.latest_revision,
    )
    assert Exhibition.objects.get(pk=other.pk).live is False
    event = AuditEvent.objects.get(action="exhibitions.exhibition.published")
    assert (event.actor_id, event.target_id) == (editor.pk, str(draft.pk))


def test_finance_refunds_a_paid_order_from_its_page(browser_page, steps):
    """Paid through the sandbox gateway, which answers from the database: no network."""
    page = browser_page
    order = paid_order(UserFactory(), TimeSlotFactory(), TicketTypeFactory(), quantity=2)
    finance = english_staff(Role.FINANCE)
    sign_in(page, steps, finance.email)
    page.goto(f"/admin/payments/order/{order.pk}/change/")
    steps("the order")
    # The inline's first cell is the payment's name and its link; then method, status, amount.
    payments = rows(page, "#payments-group tbody tr.has_original")
    assert [row[1:5] for row in payments] == [["Sandbox gateway", "Succeeded", "5800.00", "CRC"]]
    page.click("a.pm-refund")
    page.wait_for_url(f"**/admin/payments/order/{order.pk}/refund/")
    steps("asked to confirm")
    assert Refund.objects.count() == 0
    page.fill("#id_reason", "Visit cancelled by the school")
    submit(page, "#content form input[type=submit]")
    steps("refunded")
    assert page.url.endswith(f"/admin/payments/order/{order.pk}/change/")
    assert messages(page) == ["Refund of 5800.00 CRC succeeded."]
    refund = Refund.objects.get()
    assert (refund.amount, refund.scope, refund.status, refund.created_by, refund.reason) == (
        Decimal("5800.00"),
        "order",
        "succeeded",
        finance,
        "Visit cancelled by the school",
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert sorted(Ticket.objects.filter(order=order).values_list("status", flat=True)) == [
        "void",
        "void",
    ]


def test_the_ticket_office_sees_an_orders_lines_and_never_its_payments(browser_page, steps):
    order = paid_order(UserFactory(), TimeSlotFactory(), TicketTypeFactory(), quantity=2)
    page = browser_page
    sign_in(page, steps, english_staff(Role.TICKET_OFFICE).email)
    page.goto(f"/admin/payments/order/{order.pk}/change/")
    steps("the order as the ticket office sees it")
    assert page.locator("#lines-group").count() == 1
    assert page.locator("#payments-group").count() == 0
    assert page.locator("a.pm-refund").count() == 0


# The panels each role finds on its dashboard, in their order (api/back_office_dashboard.py).
PANELS = {
    Role.TICKET_OFFICE: ["Today's time slots"],
    Role.CURATOR: [
        "Open water-quality alerts",
        "Animals in quarantine or in treatment",
        "Weights overdue",
    ],
    Role.FINANCE: [
        "Today's time slots",
        "Sales of the last 30 days",
        "Donations of the last 30 days",
        "Failed webhook events",
        "Refunds waiting or failed",
    ],
}


def test_each_role_finds_its_panels_on_the_dashboard(browser_page, steps):
    page = browser_page
    seen = {}
    for role in PANELS:
        sign_in(page, steps, english_staff(role, email=f"{role}@parquemarino.test").email)
        steps(f"dashboard of {role}")
        seen[role] = page.locator("#content-main .dashboard-panel h2").all_inner_texts()
        page.click("#logout-form [type=submit]")
        page.wait_for_url("**/admin/logout/")
    assert seen == PANELS


def test_a_curator_registers_an_animal_through_the_add_form_and_finds_it_in_the_list(
    browser_page, steps
):
    page = browser_page
    curator = english_staff(Role.CURATOR)
    habitat = HabitatFactory(name="Arrecife")
    species = SpeciesFactory(common_name_es="Pez payaso", scientific_name="Amphiprion ocellaris")
    sign_in(page, steps, curator.email)
    page.click("#content-main .app-wildlife a[href$='/wildlife/animal/']")
    page.click("a.addlink")
    page.wait_for_url("**/admin/wildlife/animal/add/")
    steps("the add form")
    page.fill("#id_institutional_id", "PMP-2026-0100")
    page.select_option("#id_species", str(species.pk))
    page.select_option("#id_origin", "born_here")
    page.select_option("#id_habitat", str(habitat.pk))
    page.fill("#id_house_name", "Nemo")
    steps("filled in")
    submit(page, "input[name=_save]")
    steps("the list after saving")
    assert messages(page) == ["The animal “PMP-2026-0100 Nemo” was added successfully."]
    assert rows(page) == [
        [
            "",  # the action's checkbox (move to another habitat)
            "PMP-2026-0100",
            "Nemo",
            "Pez payaso (Amphiprion ocellaris)",
            "Unknown",
            "In collection",
            "Arrecife",
            "Born here",
        ]
    ]
    animal = Animal.objects.get()
    assert (animal.institutional_id, animal.current_habitat, animal.status_date) == (
        "PMP-2026-0100",
        habitat,
        timezone.localdate(),
    )
    moves = list(AnimalLocation.objects.values_list("animal", "habitat", "moved_by"))
    assert moves == [(animal.pk, habitat.pk, curator.pk)]


def test_gate_staff_cannot_open_the_animal_add_form_and_nothing_is_written(browser_page, steps):
    page = browser_page
    sign_in(page, steps, english_staff(Role.GATE_STAFF).email)
    response = page.goto("/admin/wildlife/animal/add/")
    steps("refused")
    assert response is not None
    assert (response.status, page.inner_text("h1")) == (403, "403 Forbidden")
    assert Animal.objects.count() == 0
