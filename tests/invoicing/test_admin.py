"""The back office shows invoices and credit notes, finds them, prints them, and never adds,
changes or deletes one."""

from decimal import Decimal

import pytest

from apps.business.invoicing import services
from apps.business.invoicing.models import Invoice
from apps.business.invoicing.rendering import invoice_pdf
from apps.support.security.roles import Role
from tests.helpers import staff_member
from tests.invoicing.helpers import buy, refund_of

pytestmark = pytest.mark.django_db

ADMIN = "/admin/invoicing/invoice/"


@pytest.fixture
def documents(visitor, slot, adult):
    invoice = services.invoice_issue(order_id=buy(visitor, (slot, adult, 2)).pk)
    refund = refund_of(invoice.order, Decimal("2900.00"))
    return invoice, services.credit_note_issue(refund_id=refund.pk)


def test_documents_are_found_by_number_order_and_email(back_office, documents, year):
    invoice, credit_note = documents
    for query, found in [
        ({"q": invoice.number}, [invoice]),
        ({"q": invoice.order.code}, [credit_note, invoice]),
        ({"q": "ada@example"}, [credit_note, invoice]),
        ({"kind__exact": "credit_note"}, [credit_note]),
        ({"series": "PM"}, [invoice]),
        ({"year": str(year)}, [credit_note, invoice]),
        ({"year": str(year + 1)}, []),
        ({"issued_at__gte": f"{year}-01-01 00:00:00-06:00"}, [credit_note, invoice]),
    ]:
        response = back_office.get(ADMIN, query)
        assert response.status_code == 200, query
        assert list(response.context["cl"].result_list) == found, query


def test_a_document_is_read_only_and_never_deleted(back_office, documents):
    invoice, _credit_note = documents
    stored = Invoice.objects.values().get(pk=invoice.pk)
    page = f"{ADMIN}{invoice.pk}/change/"
    response = back_office.get(page)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False
    assert back_office.post(page, {"buyer_name": "Someone else"}).status_code == 403
    assert back_office.post(f"{ADMIN}{invoice.pk}/delete/", {"post": "yes"}).status_code == 403
    assert back_office.get(f"{ADMIN}add/").status_code == 403
    assert back_office.get(ADMIN).context["action_form"] is None  # no bulk delete
    assert Invoice.objects.values().get(pk=invoice.pk) == stored
    assert back_office.get("/admin/invoicing/invoicecounter/add/").status_code == 403


def test_the_list_links_each_document_to_its_pdf(back_office, documents):
    invoice, _credit_note = documents
    pdf_url = f"{ADMIN}{invoice.pk}/pdf/"
    assert pdf_url in back_office.get(ADMIN).content.decode()
    response = back_office.get(pdf_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    assert response.content == invoice_pdf(invoice)


def test_finance_and_auditors_read_documents_in_the_back_office(client, documents):
    invoice, _credit_note = documents
    for role in (Role.FINANCE, Role.AUDITOR):
        client.force_login(staff_member(role))
        assert client.get(ADMIN).status_code == 200
        assert client.get(f"{ADMIN}{invoice.pk}/pdf/").status_code == 200
    client.force_login(staff_member(Role.TICKET_OFFICE))
    assert client.get(ADMIN).status_code == 403
    assert client.get(f"{ADMIN}{invoice.pk}/pdf/").status_code == 403
