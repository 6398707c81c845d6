"""Invoices and credit notes are never changed or deleted: not through the ORM, not with raw
SQL on PostgreSQL or MySQL/MariaDB, not in the back office, not through the API."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from apps.business.invoicing import services
from apps.business.invoicing.models import Invoice
from apps.support.common.models import AppendOnlyError
from apps.support.security.roles import Role
from tests.helpers import client_for, staff_member
from tests.invoicing.helpers import buy, refund_of

pytestmark = pytest.mark.django_db

with_the_trigger = pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the trigger exists on PostgreSQL and MySQL/MariaDB; SQLite has the ORM's guard only",
)


@pytest.fixture
def invoice(visitor, slot, adult):
    return services.invoice_issue(order_id=buy(visitor, (slot, adult, 1)).pk)


@pytest.fixture
def credit_note(invoice):
    refund = refund_of(invoice.order, Decimal("2900.00"))
    return services.credit_note_issue(refund_id=refund.pk)


def as_stored(document: Invoice) -> dict:
    return Invoice.objects.values().get(pk=document.pk)


@pytest.mark.parametrize("kind", ["invoice", "credit_note"])
def test_the_orm_refuses_to_change_or_delete_a_document(request, kind):
    document = request.getfixturevalue(kind)
    stored = as_stored(document)
    document.total = Decimal("1.00")
    with pytest.raises(AppendOnlyError):
        document.save()
    with pytest.raises(AppendOnlyError):
        document.save(update_fields=["total"])
    with pytest.raises(AppendOnlyError):
        document.delete()
    with pytest.raises(AppendOnlyError):
        Invoice.objects.filter(pk=document.pk).update(total=Decimal("1.00"))
    with pytest.raises(AppendOnlyError):
        Invoice.objects.filter(pk=document.pk).delete()
    with pytest.raises(AppendOnlyError):
        Invoice.objects.bulk_update([document], ["total"])
    assert as_stored(document) == stored


def test_a_new_object_with_a_stored_document_s_id_is_never_saved_over_it(invoice):
    stored = as_stored(invoice)
    forged = Invoice(**{**stored, "total": Decimal("1.00"), "net": Decimal("1.00")})
    forged.tax = Decimal("0.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        forged.save()
    assert as_stored(invoice) == stored


@with_the_trigger
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE invoicing_invoice SET buyer_name = 'Someone else' WHERE id = %s",
        "UPDATE invoicing_invoice SET total = 0, net = 0, tax = 0 WHERE id = %s",
        "DELETE FROM invoicing_invoice WHERE id = %s",
    ],
)
@pytest.mark.parametrize("kind", ["invoice", "credit_note"])
def test_the_database_refuses_raw_sql(request, kind, statement):
    document = request.getfixturevalue(kind)
    stored = as_stored(document)
    with (
        pytest.raises(DatabaseError, match=f"invoicing_invoice is immutable: .* of {document}"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [document.pk])
    assert as_stored(document) == stored


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_the_api_has_no_way_to_change_or_delete_a_document(invoice, method):
    stored = as_stored(invoice)
    finance = client_for(staff_member(Role.FINANCE))
    url = f"/api/v1/payments/invoices/{invoice.pk}/"
    response = getattr(finance, method)(url, {"total": "1.00"}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert as_stored(invoice) == stored


@pytest.mark.parametrize(
    "url", ["/api/v1/payments/invoices/", "/api/v1/payments/invoices/{id}/pdf/"]
)
def test_the_api_has_no_way_to_create_a_document(invoice, url):
    administrator = client_for(staff_member(Role.ADMINISTRATOR))
    response = administrator.post(url.format(id=invoice.pk), {"order": invoice.order_id})
    assert response.status_code == 405
    assert Invoice.objects.count() == 1
