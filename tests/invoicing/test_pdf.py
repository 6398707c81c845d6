"""The PDF prints what the document stored, in the park's language, and reprints byte for
byte: its creation date is the issue time, not the moment it is printed."""

import datetime
from decimal import Decimal

import fpdf.fpdf
import pytest
from django.test import override_settings
from django.utils import timezone, translation

from apps.business.invoicing import services
from apps.business.invoicing.rendering import invoice_pdf
from tests.factories import UserFactory
from tests.invoicing.helpers import buy, pdf_text, refund_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(visitor, slot, adult, child):
    return services.invoice_issue(order_id=buy(visitor, (slot, adult, 2), (slot, child, 1)).pk)


class _AnyDatetime(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, datetime.datetime)


class _Tomorrow(datetime.datetime, metaclass=_AnyDatetime):
    """fpdf2's ``datetime``, whose ``now()`` (a PDF's default creation date) is a day later."""

    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.now(tz) + datetime.timedelta(days=1)


def test_a_reprint_is_the_same_bytes_on_another_day(invoice, monkeypatch):
    first = invoice_pdf(invoice)
    monkeypatch.setattr(fpdf.fpdf, "datetime", _Tomorrow)
    invoice.refresh_from_db()
    assert invoice_pdf(invoice) == first
    stamp = timezone.localtime(invoice.issued_at).astimezone(datetime.UTC)
    assert f"/CreationDate (D:{stamp:%Y%m%d%H%M%S}Z)".encode() in first


def test_the_invoice_prints_what_it_stored(invoice, year):
    adult_line, child_line = invoice.order.lines.order_by("id")
    issued = timezone.localtime(invoice.issued_at)
    with translation.override("en"):  # whoever asks: the park's language
        text = pdf_text(invoice_pdf(invoice))
    assert text == [
        "FACTURA",
        f"PM-{year}-000001",
        f"Emitida {issued:%Y-%m-%d %H:%M}",
        f"Orden {invoice.order.code}",
        "Parque Marino del Pacífico S.A.",
        "Identificación tributaria: 3-101-000000",
        "Paseo de los Turistas, Puntarenas, Costa Rica",
        "facturacion@parquemarino.example",
        "Cliente",
        "Ada Lovelace",
        "ada@example.org",
        "Descripción",
        "Cant.",
        "Precio unitario",
        "IVA",
        "Total",
        adult_line.description.replace("\u2014", "-"),
        "2",
        "2,900.00",
        "667.26",
        "5,800.00",
        child_line.description.replace("\u2014", "-"),
        "1",
        "1,450.00",
        "166.81",
        "1,450.00",
        "Neto",
        "6,415.93",
        "IVA 13 %",
        "834.07",
        "Total CRC",
        "7,250.00",
        "Precios con IVA incluido (13 %).",
    ]


def test_a_credit_note_prints_the_invoice_it_corrects(invoice, year):
    credit_note = services.credit_note_issue(
        refund_id=refund_of(invoice.order, Decimal("1450.00")).pk
    )
    text = pdf_text(invoice_pdf(credit_note))
    assert text[:5] == [
        "NOTA DE CRÉDITO",
        f"PMNC-{year}-000001",
        text[2],
        f"Orden {invoice.order.code}",
        f"Corrige la factura PM-{year}-000001",
    ]
    assert text[17:22] == ["Reembolso", "1", "1,450.00", "166.81", "1,450.00"]
    assert text[-2:] == [
        "Precios con IVA incluido (13 %).",
        "Los importes de esta nota de crédito se devuelven al cliente.",
    ]


def test_settings_changed_since_do_not_change_the_print(invoice):
    first = invoice_pdf(invoice)
    with override_settings(SELLER_LEGAL_NAME="Otra S.A.", TAX_RATE=Decimal("0.10")):
        assert invoice_pdf(invoice) == first


def test_what_latin_1_cannot_write_prints_as_a_question_mark(slot, adult):
    user = UserFactory(first_name="Zoë", last_name="\u674e \u2014 O\u2019Neil")
    invoice = services.invoice_issue(order_id=buy(user, (slot, adult, 1)).pk)
    assert "Zoë ? - O'Neil" in pdf_text(invoice_pdf(invoice))


def test_a_buyer_nobody_named_prints_as_final_consumer(invoice, monkeypatch):
    monkeypatch.setattr(invoice, "buyer_name", "")
    monkeypatch.setattr(invoice, "buyer_email", "")
    text = pdf_text(invoice_pdf(invoice))
    assert text[text.index("Cliente") + 1] == "Consumidor final"
