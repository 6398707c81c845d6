"""axe-core on the back office's dashboard and the main forms, as the staff who use them
(docs/adr/0052): no serious or critical violation. The login page has its own test
(test_sign_in.py)."""

import pytest

from apps.support.security.roles import Role
from tests.e2e.browser import axe_violations, blocking, english_staff, sign_in
from tests.factories import HabitatFactory, TicketTypeFactory, UserFactory
from tests.sales import paid_order
from tests.tickets.pages import slot_at
from tests.wildlife.test_admin_workflows import registered

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def violations_of(page, steps, paths: list[str]) -> dict[str, str]:
    """The blocking violations of each page, by its path ("" when it has none)."""
    found = {}
    for path in paths:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        steps(path)
        found[path] = blocking(axe_violations(page))
    return found


def test_the_finance_dashboard_and_the_refund_page_pass_axe(browser_page, steps):
    order = paid_order(UserFactory(), slot_at(), TicketTypeFactory())
    sign_in(browser_page, steps, english_staff(Role.FINANCE).email)
    paths = ["/admin/", f"/admin/payments/order/{order.pk}/refund/"]
    assert violations_of(browser_page, steps, paths) == dict.fromkeys(paths, "")


def test_the_ticket_office_counter_sale_and_the_gate_scan_page_pass_axe(browser_page, steps):
    slot_at()
    TicketTypeFactory()
    sign_in(browser_page, steps, english_staff(Role.TICKET_OFFICE).email)
    paths = ["/admin/payments/order/sell/"]
    assert violations_of(browser_page, steps, paths) == dict.fromkeys(paths, "")
    browser_page.click("#logout-form [type=submit]")
    sign_in(browser_page, steps, english_staff(Role.GATE_STAFF).email)
    paths = ["/admin/tickets/checkin/scan/"]
    assert violations_of(browser_page, steps, paths) == dict.fromkeys(paths, "")


def test_the_curators_dashboard_and_the_animal_forms_pass_axe(browser_page, steps):
    curator = english_staff(Role.CURATOR)
    animal = registered(HabitatFactory(name="Laguna"), actor=curator)
    HabitatFactory(name="Arrecife")
    sign_in(browser_page, steps, curator.email)
    paths = [
        "/admin/",
        "/admin/wildlife/animal/add/",  # "arrived at": a date and a time, each labelled
        f"/admin/wildlife/animal/{animal.pk}/move/",
    ]
    assert violations_of(browser_page, steps, paths) == dict.fromkeys(paths, "")


def test_the_water_reading_add_form_passes_axe(browser_page, steps):
    HabitatFactory(name="Arrecife")
    sign_in(browser_page, steps, english_staff(Role.AQUARIST).email)
    paths = ["/admin/infrastructure/waterreading/add/"]
    assert violations_of(browser_page, steps, paths) == dict.fromkeys(paths, "")
