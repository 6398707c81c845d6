"""JSON bodies are UTF-8 text of Unicode strings: another charset is refused before anything reads
the body, and a lone surrogate before any answer could echo it."""

import pytest
from django.test import Client

from apps.business.payments.models import Order
from tests.helpers import bearer

pytestmark = pytest.mark.django_db


def error_code(response) -> tuple[int, str]:
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()["code"]


# --- A lone surrogate in a JSON key or value: 500 on every JSON endpoint ---------------


def test_a_lone_surrogate_naming_an_unknown_field_is_a_400_not_a_500():
    client = Client(raise_request_exception=False)
    response = client.post(
        "/api/v1/auth/token/", b'{"\\ud800": 1}', content_type="application/json"
    )
    assert error_code(response) == (400, "parse_error")


def test_a_lone_surrogate_as_an_order_line_s_kind_is_a_400_not_a_500(user):
    client = Client(raise_request_exception=False, headers=bearer(user))
    body = b'{"lines": [{"kind": "\\ud800", "slot": 1, "ticket_type": 1, "quantity": 1}]}'
    response = client.post("/api/v1/payments/orders/", body, content_type="application/json")
    assert error_code(response) == (400, "parse_error")
    assert Order.objects.count() == 0


@pytest.mark.parametrize("charset", ["cp500", "utf-16-le"])
def test_json_nested_deep_in_another_charset_is_refused_before_parsing(charset):
    text = "[" * 5000 + "]" * 5000
    if charset == "utf-16-le":
        # U+2200 encodes as 00 22: a lone quote byte that hides the brackets from the scanner.
        text = '["\u2200", ' + text + ', "x"]'
    client = Client(raise_request_exception=False)
    # The test client encodes a str body in the charset the Content-Type names.
    response = client.post(
        "/api/v1/auth/token/", text, content_type=f"application/json; charset={charset}"
    )
    assert error_code(response) == (415, "unsupported_media_type")


def test_a_text_longer_than_its_field_is_refused_even_when_trimming_would_shorten_it():
    """The schema's maxLength counts what was sent; Python trims \\x1e as whitespace."""
    from apps.business.tickets.models import TicketType
    from apps.support.security.roles import Role
    from tests.helpers import client_for, staff_member

    client = client_for(staff_member(Role.ADMINISTRATOR))
    body = {"code": "long", "name_es": "\x1e" + "a" * 120, "price": "100.00"}
    response = client.post("/api/v1/tickets/ticket-types/", body, format="json")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("name_es", "max_length")
    ]
    assert TicketType.objects.filter(code="long").count() == 0
    body["name_es"] = "a" * 120
    assert client.post("/api/v1/tickets/ticket-types/", body, format="json").status_code == 201
