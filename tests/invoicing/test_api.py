"""GET /api/v1/payments/invoices/: a visitor's own documents; all of them for finance and
auditors; the PDF; the accountant's CSV."""

from decimal import Decimal

import pytest
from django.utils import timezone

from apps.business.invoicing import services
from apps.business.invoicing.models import Invoice
from apps.business.invoicing.rendering import invoice_pdf
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member
from tests.invoicing.helpers import buy, refund_of

pytestmark = pytest.mark.django_db

INVOICES = "/api/v1/payments/invoices/"


@pytest.fixture
def documents(visitor, slot, adult, child):
    """Ada's invoice and credit note, and another visitor's invoice, in issue order."""
    mine = services.invoice_issue(order_id=buy(visitor, (slot, adult, 2), (slot, child, 1)).pk)
    other = UserFactory(email="grace@example.org", first_name="Grace", last_name="Hopper")
    theirs = services.invoice_issue(order_id=buy(other, (slot, child, 1)).pk)
    refund = refund_of(mine.order, Decimal("1450.00"))
    credit_note = services.credit_note_issue(refund_id=refund.pk)
    return mine, theirs, credit_note


def numbers(response) -> list[str]:
    return [row["number"] for row in response.json()["results"]]


def test_the_representation_of_a_credit_note(visitor, documents, year):
    mine, _theirs, credit_note = documents
    response = client_for(visitor).get(f"{INVOICES}{credit_note.pk}/")
    assert response.status_code == 200
    assert response.json() == {
        "id": credit_note.pk,
        "number": f"PMNC-{year}-000001",
        "kind": "credit_note",
        "order": mine.order_id,
        "order_code": mine.order.code,
        "refers_to": mine.pk,
        "refers_to_number": f"PM-{year}-000001",
        "issued_at": timezone.localtime(credit_note.issued_at).isoformat(),
        "currency": "CRC",
        "net": "1283.19",
        "tax": "166.81",
        "total": "1450.00",
        "tax_rate": "0.1300",
        "lines": [
            {
                "description": "Reembolso",
                "quantity": 1,
                "unit_price": "1450.00",
                "net": "1283.19",
                "tax": "166.81",
                "total": "1450.00",
            }
        ],
        "seller": {
            "legal_name": "Parque Marino del Pacífico S.A.",
            "tax_id": "3-101-000000",
            "address": "Paseo de los Turistas, Puntarenas, Costa Rica",
            "email": "facturacion@parquemarino.example",
        },
        "buyer": {"name": "Ada Lovelace", "email": "ada@example.org", "tax_id": ""},
    }


def test_an_invoice_refers_to_nothing(visitor, documents):
    mine, _theirs, _credit_note = documents
    body = client_for(visitor).get(f"{INVOICES}{mine.pk}/").json()
    assert (body["kind"], body["refers_to"], body["refers_to_number"]) == ("invoice", None, None)
    assert (body["net"], body["tax"], body["total"]) == ("6415.93", "834.07", "7250.00")


def test_who_sees_which_documents(visitor, documents):
    mine, theirs, credit_note = documents
    everything = [credit_note.number, theirs.number, mine.number]  # newest first
    callers = {
        "visitor": (visitor, [credit_note.number, mine.number]),
        "another visitor": (theirs.order.user, [theirs.number]),
        "finance": (staff_member(Role.FINANCE), everything),
        "auditor": (staff_member(Role.AUDITOR), everything),
        "administrator": (staff_member(Role.ADMINISTRATOR), everything),
        "ticket office": (staff_member(Role.TICKET_OFFICE), []),
    }
    for who, (user, visible) in callers.items():
        client = client_for(user)
        listed = client.get(INVOICES)
        assert (listed.status_code, numbers(listed)) == (200, visible), who
        for document in (mine, theirs, credit_note):
            expected = 200 if document.number in visible else 404
            for suffix in ("", "pdf/"):
                response = client.get(f"{INVOICES}{document.pk}/{suffix}")
                assert response.status_code == expected, (who, document.number, suffix)
                if expected == 404:
                    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("suffix", ["", "{id}/", "{id}/pdf/", "export/"])
def test_anonymous_callers_are_refused(api_client, documents, suffix):
    response = api_client.get(INVOICES + suffix.format(id=documents[0].pk))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", [None, Role.TICKET_OFFICE, Role.GATE_STAFF, Role.CURATOR])
def test_the_export_is_for_finance_and_auditors_only(documents, role):
    user = UserFactory() if role is None else staff_member(role)
    response = client_for(user).get(f"{INVOICES}export/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_filters(documents):
    mine, theirs, credit_note = documents
    finance = client_for(staff_member(Role.FINANCE))
    for query, expected in [
        ({"order": mine.order_id}, [credit_note, mine]),
        ({"order": theirs.order_id, "kind": "invoice"}, [theirs]),
        ({"kind": "credit_note"}, [credit_note]),
        ({"issued_after": theirs.issued_at.isoformat()}, [credit_note, theirs]),
        ({"issued_before": theirs.issued_at.isoformat()}, [mine]),
        ({"order": 0}, []),
        ({"search": "grace@"}, [theirs]),
    ]:
        response = finance.get(INVOICES, query)
        assert (response.status_code, numbers(response)) == (
            200,
            [document.number for document in expected],
        ), query
    for query in ({"kind": "receipt"}, {"order": "x"}, {"issued_after": "yesterday"}):
        response = finance.get(INVOICES, query)
        assert response.status_code == 400, query
        assert response.json()["code"] == "validation_error"


def test_a_visitor_filtering_by_another_s_order_gets_nothing(visitor, documents):
    _mine, theirs, _credit_note = documents
    response = client_for(visitor).get(INVOICES, {"order": theirs.order_id})
    assert (response.status_code, response.json()["count"]) == (200, 0)


def test_the_pdf_is_the_document_as_printed(visitor, documents):
    mine, _theirs, _credit_note = documents
    response = client_for(visitor).get(f"{INVOICES}{mine.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{mine.number}.pdf"'
    assert response.content == invoice_pdf(mine)
    english = client_for(visitor).get(f"{INVOICES}{mine.pk}/pdf/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.content == response.content  # one document, whoever asks


def test_the_export_has_one_row_per_document(documents, year):
    mine, theirs, credit_note = documents
    auditor = client_for(staff_member(Role.AUDITOR))
    response = auditor.get(f"{INVOICES}export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="invoices-')

    def issued(document: Invoice) -> str:
        return timezone.localtime(document.issued_at).isoformat()

    assert b"".join(response.streaming_content).decode().splitlines() == [
        "number,kind,refers_to,order,issued_at,buyer,buyer_email,buyer_tax_id,currency,net,tax,total",
        f"PM-{year}-000001,invoice,,{mine.order.code},{issued(mine)},Ada Lovelace,"
        "ada@example.org,,CRC,6415.93,834.07,7250.00",
        f"PM-{year}-000002,invoice,,{theirs.order.code},{issued(theirs)},Grace Hopper,"
        "grace@example.org,,CRC,1283.19,166.81,1450.00",
        f"PMNC-{year}-000001,credit_note,PM-{year}-000001,{mine.order.code},"
        f"{issued(credit_note)},Ada Lovelace,ada@example.org,,CRC,1283.19,166.81,1450.00",
    ]


def test_the_export_takes_the_list_s_filters(documents, year):
    mine, _theirs, _credit_note = documents
    finance = client_for(staff_member(Role.FINANCE))
    response = finance.get(f"{INVOICES}export/", {"kind": "invoice", "order": mine.order_id})
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert [row.split(",")[0] for row in rows] == ["number", f"PM-{year}-000001"]
    refused = finance.get(f"{INVOICES}export/", {"kind": "receipt"})
    assert (refused.status_code, refused["Content-Type"]) == (400, "application/json")


def test_a_buyer_s_name_never_runs_as_a_spreadsheet_formula(slot, adult):
    mischief = UserFactory(first_name="=HYPERLINK(1)", last_name="")
    services.invoice_issue(order_id=buy(mischief, (slot, adult, 1)).pk)
    finance = client_for(staff_member(Role.FINANCE))
    rows = b"".join(finance.get(f"{INVOICES}export/").streaming_content).decode().splitlines()
    assert rows[1].split(",")[5] == "'=HYPERLINK(1)"


@pytest.mark.parametrize("role", [Role.FINANCE, None])
def test_the_list_costs_3_queries_for_1_or_50_documents(
    visitor, slot, adult, django_assert_num_queries, role
):
    """The caller with their roles, the count, the page (orders and credit notes' invoices
    joined)."""
    for _ in range(50):
        services.invoice_issue(order_id=buy(visitor, (slot, adult, 1)).pk)
    client = client_for(visitor if role is None else staff_member(role))
    for page_size in (1, 50):
        with django_assert_num_queries(3):
            response = client.get(INVOICES, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
