"""The issue's "done when", end to end through the API: a new visitor registers, sees today's
availability, orders 2 adult and 1 child ticket, pays with the sandbox gateway, gets the email,
downloads the PDF; at the gate the QR is accepted once and refused the second time."""

from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from apps.business.payments.models import Order
from apps.business.tickets.models import Ticket
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db


def test_a_new_visitor_buys_tickets_and_enters_once(api_client, django_capture_on_commit_callbacks):
    slot = TimeSlotFactory(capacity=60)
    adult = TicketTypeFactory(code="adult", name_es="Adulto", price=Decimal("2900.00"))
    child = TicketTypeFactory(code="child", name_es="Niño 4-11", price=Decimal("1600.00"))

    registered = api_client.post(
        "/api/v1/auth/register/",
        {"email": "ana@example.org", "password": "corales-y-tortugas-1", "first_name": "Ana"},
    )
    assert registered.status_code == 201
    token = api_client.post(
        "/api/v1/auth/token/", {"email": "ana@example.org", "password": "corales-y-tortugas-1"}
    ).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    today = api_client.get("/api/v1/tickets/slots/", {"date": timezone.localdate().isoformat()})
    assert today.status_code == 200
    assert [(s["id"], s["remaining"], s["bookable"]) for s in today.json()["results"]] == [
        (slot.pk, 60, True)
    ]

    created = api_client.post(
        "/api/v1/payments/orders/",
        {
            "lines": [
                {"slot": slot.pk, "ticket_type": adult.pk, "quantity": 2},
                {"slot": slot.pk, "ticket_type": child.pk, "quantity": 1},
            ]
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    order = created.json()
    assert order["status"] == "pending"
    assert order["total"] == "7400.00"
    assert order["currency"] == "CRC"
    assert [(line["quantity"], line["unit_price"]) for line in order["lines"]] == [
        (2, "2900.00"),
        (1, "1600.00"),
    ]
    held = api_client.get("/api/v1/tickets/slots/").json()["results"][0]
    assert (held["sold"], held["held"], held["remaining"]) == (0, 3, 57)

    with django_capture_on_commit_callbacks(execute=True):
        paid = api_client.post(
            f"/api/v1/payments/orders/{order['id']}/pay/", {"gateway": "sandbox"}, format="json"
        )
    assert paid.status_code == 200, paid.json()
    assert paid.json()["status"] == "paid"
    assert [(p["method"], p["status"], p["amount"]) for p in paid.json()["payments"]] == [
        ("sandbox", "succeeded", "7400.00")
    ]
    after = api_client.get("/api/v1/tickets/slots/").json()["results"][0]
    assert (after["sold"], after["held"], after["remaining"]) == (3, 0, 57)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ana@example.org"]
    assert order["code"] in email.subject
    assert [name for name, _content, _type in email.attachments] == [
        f"parque-marino-{order['code']}.pdf"
    ]
    assert email.attachments[0][1].startswith(b"%PDF")

    tickets = api_client.get("/api/v1/tickets/tickets/").json()["results"]
    assert sorted(t["ticket_type_name"] for t in tickets) == ["Adulto", "Adulto", "Niño 4-11"]
    assert all(t["code"] in email.body for t in tickets)
    pdf = api_client.get(f"/api/v1/tickets/tickets/{tickets[0]['id']}/pdf/")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    qr = api_client.get(f"/api/v1/tickets/tickets/{tickets[0]['id']}/qr/")
    assert qr["Content-Type"] == "image/png"
    assert qr.content.startswith(b"\x89PNG")
    svg = api_client.get(f"/api/v1/tickets/tickets/{tickets[0]['id']}/qr/", {"image": "svg"})
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content

    gate = client_for(staff_member(Role.GATE_STAFF))
    first = gate.post(
        "/api/v1/tickets/check-ins/", {"code": tickets[0]["code"], "gate": "Norte"}, format="json"
    )
    assert first.status_code == 201, first.json()
    assert first.json()["gate"] == "Norte"
    second = gate.post(
        "/api/v1/tickets/check-ins/", {"code": tickets[0]["code"], "gate": "Sur"}, format="json"
    )
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "already_checked_in"
    assert body["details"] == {
        "checked_in_at": first.json()["checked_in_at"],
        "gate": "Norte",
    }
    assert Ticket.objects.filter(check_in__isnull=False).count() == 1
    assert Order.objects.get().status == "paid"
