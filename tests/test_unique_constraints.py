"""Every conditional or expression unique constraint refuses a duplicate in the database, on
every backend: PostgreSQL and SQLite through Django's partial and expression indexes, MySQL and
MariaDB through the generated columns of ``UniqueOnMySQL`` (docs/adr/0044). Rows the condition
leaves out are not compared. Each write goes to the database as it is (no model validation).
"""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from apps.business.documents.models import Folder
from apps.business.infrastructure.models import WaterAlert, WaterReading
from apps.business.invoicing import services as invoicing
from apps.business.invoicing.models import Invoice
from apps.business.payments.models import Order, Payment, Refund
from apps.business.wildlife.models import Animal
from apps.integrations.models import SandboxLedgerEntry
from apps.support.security.models import User
from tests.factories import (
    AnimalFactory,
    HabitatFactory,
    TicketTypeFactory,
    TimeSlotFactory,
    UserFactory,
)
from tests.invoicing.helpers import buy, refund_of

pytestmark = pytest.mark.django_db


def refused(write: Callable[[], object]) -> bool:
    try:
        with transaction.atomic():
            write()
    except IntegrityError:
        return True
    return False


def copy_of(instance: models.Model, **changes: object) -> Callable[[], object]:
    """A write of a new row with ``instance``'s stored values but ``changes``."""
    model = type(instance)
    values = model.objects.filter(pk=instance.pk).values().get()
    values.pop("id")
    for name, value in changes.items():  # a related row: its key, as values() has it
        field = model._meta.get_field(name)
        values[field.attname] = value.pk if isinstance(value, models.Model) else value
    return lambda: model.objects.bulk_create([model(**values)])


def test_every_conditional_or_expression_unique_constraint_is_tested_here():
    covered = {name for name, _ in CASES}
    found = {
        constraint.name
        for model in apps.get_models()
        if model.__module__.startswith("apps.")  # the project's own (not Wagtail's)
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and (constraint.condition is not None or constraint.expressions)
    }
    assert found == covered


def water_alert() -> tuple[WaterAlert, dict, dict | None]:
    habitat = HabitatFactory()
    reading = WaterReading.objects.create(
        habitat=habitat, taken_at=timezone.now(), taken_by=UserFactory(), ph=Decimal("9.1")
    )
    alert = WaterAlert.objects.create(
        habitat=habitat,
        parameter="ph",
        direction="high",
        opened_at=timezone.now(),
        opened_by_reading=reading,
        last_value=Decimal("9.1"),
        last_reading=reading,
    )
    return alert, {}, {"closed_at": timezone.now()}


def paid_order() -> Order:
    slot = TimeSlotFactory(capacity=60)
    adult = TicketTypeFactory(code=f"adult-{Order.objects.count()}")
    return buy(UserFactory(), (slot, adult, 1))


def another_number(prefix: str) -> dict:
    return {"sequence": 999_999, "number": f"{prefix}-1999-999999", "year": 1999}


def invoice() -> tuple[Invoice, dict, dict | None]:
    document = invoicing.invoice_issue(order_id=paid_order().pk)
    refund = refund_of(document.order, Decimal("1.00"))
    credit = {"kind": "credit_note", "refers_to": document, "refund": refund}
    return document, another_number("F"), another_number("R") | credit


def credit_note() -> tuple[Invoice, dict, dict | None]:
    document = invoicing.invoice_issue(order_id=paid_order().pk)
    refund = refund_of(document.order, Decimal("1.00"))
    note = invoicing.credit_note_issue(refund_id=refund.pk)
    # No row outside the condition may name a refund: an invoice never does (a check).
    return note, another_number("R"), None


def animal() -> tuple[Animal, dict, dict | None]:
    tagged = AnimalFactory(transponder_id="985112004567890")
    untagged = AnimalFactory(transponder_id="")
    duplicate = {"institutional_id": "PMP-DUP-1", "transponder_id": tagged.transponder_id}
    return untagged, duplicate, {"institutional_id": "PMP-DUP-2"}


def payment_reference() -> tuple[Payment, dict, dict | None]:
    paid_order()  # another payment without a reference
    payment = paid_order().payments.get()
    Payment.objects.filter(pk=payment.pk).update(gateway_reference="pi_123")
    return payment, {"status": "failed"}, {"status": "failed", "gateway_reference": ""}


def pending_payment() -> tuple[Payment, dict, dict | None]:
    payment = paid_order().payments.get()
    Payment.objects.filter(pk=payment.pk).update(status="pending")
    return payment, {"gateway_reference": ""}, {"status": "failed", "gateway_reference": ""}


def refund_reference() -> tuple[Refund, dict, dict | None]:
    order = paid_order()
    refund_of(order, Decimal("1.00"))  # another refund without a reference
    refund = refund_of(order, Decimal("1.00"))
    Refund.objects.filter(pk=refund.pk).update(gateway_reference="re_123")
    return refund, {}, {"gateway_reference": ""}


def root_folder() -> tuple[Folder, dict, dict | None]:
    folder = Folder.objects.create(name="Permisos")
    return folder, {}, {"parent": Folder.objects.create(name="Veterinaria")}


def ledger_entry() -> tuple[SandboxLedgerEntry, dict, dict | None]:
    values = {
        "kind": "payment",
        "payment_reference": "sbx_1",
        "amount_minor": 100,
        "currency": "CRC",
        "status": "succeeded",
    }
    SandboxLedgerEntry.objects.create(reference="sbx_0", idempotency_key="", **values)
    entry = SandboxLedgerEntry.objects.create(reference="sbx_1", idempotency_key="k1", **values)
    return entry, {"reference": "sbx_2"}, {"reference": "sbx_3", "idempotency_key": ""}


def user_email() -> tuple[User, dict, dict | None]:
    user = UserFactory(email="ada@example.org")
    return user, {"email": "ADA@example.org"}, None


# (constraint, row maker): the maker returns a stored row, the changes that make a copy
# of it a duplicate under the constraint, and changes that take a copy outside the condition
# while it still has values a stored row has (None: no such row can be written).
CASES = [
    ("one_open_alert_per_parameter", water_alert),
    ("invoice_one_per_order", invoice),
    ("invoice_one_credit_note_per_refund", credit_note),
    ("transponder_unique_when_set", animal),
    ("payment_gateway_reference_unique", payment_reference),
    ("payment_one_pending_per_order", pending_payment),
    ("refund_gateway_reference_unique", refund_reference),
    ("folder_root_name_unique", root_folder),
    ("sandbox_ledger_key_unique", ledger_entry),
    ("security_user_email_ci_unique", user_email),
]


@pytest.mark.parametrize(("name", "make"), CASES, ids=[case[0] for case in CASES])
def test_a_duplicate_is_refused_and_a_row_outside_the_condition_is_not(name, make):
    row, duplicate, outside = make()
    assert refused(copy_of(row, **duplicate)), f"{name} took a duplicate"
    if outside is not None:  # the same values where the condition does not hold
        assert not refused(copy_of(row, **outside)), f"{name} refused a row it does not cover"
