"""The back office's login page in a real browser: accessible (axe-core, the keyboard), in
the staff's language, and each role's modules once signed in (docs/adr/0052)."""

import pytest
from playwright.sync_api import Page

from apps.support.security.roles import Role
from tests.e2e.browser import app_labels, axe_violations, blocking, english_staff, sign_in

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The apps each role finds on the index, in its order: what the API's permission matrix lets
# it list (tests/test_admin_permissions.py compares the two model by model). Everyone on the
# staff sees the species and the ticket types (public catalogues); Axes and the token
# blacklist are the superusers' only.
APPS = {
    Role.ADMINISTRATOR: [
        "audit",
        "auth",
        "documents",
        "donations",
        "education",
        "exhibitions",
        "infrastructure",
        "invoicing",
        "payments",
        "security",
        "tickets",
        "wildlife",
    ],
    Role.CURATOR: ["exhibitions", "infrastructure", "tickets", "wildlife"],
    Role.VETERINARIAN: ["infrastructure", "tickets", "wildlife"],
    Role.AQUARIST: ["infrastructure", "tickets", "wildlife"],
    Role.EDUCATOR: ["education", "tickets", "wildlife"],
    Role.CONTENT_EDITOR: ["donations", "education", "exhibitions", "tickets", "wildlife"],
    Role.TICKET_OFFICE: ["payments", "tickets", "wildlife"],
    Role.GATE_STAFF: ["tickets", "wildlife"],
    Role.FINANCE: [
        "donations",
        "education",
        "finance",
        "invoicing",
        "payments",
        "tickets",
        "wildlife",
    ],
    Role.AUDITOR: [
        "audit",
        "documents",
        "donations",
        "finance",
        "invoicing",
        "tickets",
        "wildlife",
    ],
}


def models_of(page: Page, app: str) -> list[str]:
    """The models the index lists in ``app``, as their links read."""
    return page.locator(f"#content-main .app-{app} th[scope=row]").all_inner_texts()


def test_each_role_signs_in_and_sees_the_modules_of_its_role(browser_page, steps):
    page = browser_page
    assert list(APPS) == list(Role)
    seen, headers = {}, {}
    for role in Role:
        member = english_staff(role, email=f"{role}@parquemarino.test")
        sign_in(page, steps, member.email)
        headers[role] = page.inner_text("#site-name")
        seen[role] = app_labels(page)
        steps(f"index of {role}")
        if role == Role.TICKET_OFFICE:  # orders, never payments (as the API)
            assert models_of(page, "payments") == ["Order lines", "Orders"]
        if role == Role.FINANCE:
            assert models_of(page, "payments") == [
                "Order lines",
                "Orders",
                "Payments",
                "Refunds",
                "Webhook events",
            ]
        page.click("#logout-form [type=submit]")
        page.wait_for_url("**/admin/logout/")
    assert headers == dict.fromkeys(Role, "Parque Marino back office")
    assert seen == APPS


def test_the_login_page_is_in_spanish_for_a_spanish_browser(new_page):
    page = new_page(locale="es-ES")
    page.goto("/admin/login/")
    header, button = page.inner_text("#site-name"), page.input_value("#login-form [type=submit]")
    assert (header, button) == ("Administración de Parque Marino", "Iniciar sesión")


def test_the_login_page_passes_axe_and_the_keyboard_reaches_its_fields_in_order(
    browser_page, steps
):
    page = browser_page
    page.goto("/admin/login/")
    steps("login page")
    violations = axe_violations(page)
    assert blocking(violations) == ""
    # The page opens with the cursor in the email field (Django's autofocus); from the top of
    # the page, Tab goes through the form in its order.
    assert page.evaluate("() => document.activeElement.id") == "id_username"
    page.mouse.click(1, 1)  # the header's top left corner
    focused = []
    for _ in range(10):
        page.keyboard.press("Tab")
        focused.append(
            page.evaluate(
                """() => {
                    const element = document.activeElement;
                    const style = getComputedStyle(element);
                    return {
                        id: element.id || element.getAttribute('href') || element.className
                            || `${element.type}: ${element.value}`,
                        visible: style.boxShadow !== 'none'
                            || (style.outlineStyle !== 'none'
                                && parseFloat(style.outlineWidth) > 0),
                    };
                }"""
            )
        )
        steps(f"tab {len(focused)}")
        if focused[-1]["id"] == "submit: Log in":
            break
    # The skip link, the site's name and the theme switch of the header come first.
    assert focused == [
        {"id": "#content-start", "visible": True},
        {"id": "/admin/", "visible": True},
        {"id": "theme-toggle", "visible": True},
        {"id": "id_username", "visible": True},
        {"id": "id_password", "visible": True},
        {"id": "submit: Log in", "visible": True},
    ]
