"""Statements compiled once (apps.support.common.statements, docs/adr/0053 and 0054): the
rows ``Compiled`` gives are the rows its queryset gives, and the row ``Insert`` stores is the row
``create()`` stores, on every database, for every value."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.business.payments import services as payments
from apps.business.payments.models import Order, OrderLine, Payment, Refund
from apps.business.payments.selectors import order_list
from apps.business.payments.services.common import (
    lock_order,
    order_lines,
    order_payments_with_refunds,
)
from apps.business.tickets.models import CheckIn
from apps.business.wildlife.models import Species
from apps.support.common.locking import lock_compiled
from apps.support.common.statements import Compiled, Insert
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import staff_member
from tests.sales import order_values, paid_order

pytestmark = pytest.mark.django_db

_PAYMENT = Compiled(lambda pk: Payment.objects.filter(pk=pk))
_REFUNDS = Compiled(lambda order: Refund.objects.filter(payment__order_id=order))
_LINES_OF_KIND = Compiled(
    lambda order, quantity: OrderLine.objects.filter(order_id=order, quantity__gte=quantity), 2
)


def _columns(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname)
        for field in type(instance)._meta.concrete_fields
    }


@pytest.fixture
def orders():
    """Two paid orders, the first with two refunds (one of a line, one of an amount)."""
    visitor = UserFactory()
    slot, ticket_type = TimeSlotFactory(capacity=50), TicketTypeFactory(price=Decimal("2900"))
    first = paid_order(visitor, slot, ticket_type, quantity=3)
    second = paid_order(visitor, slot, ticket_type, quantity=1)
    finance = staff_member(Role.FINANCE)
    payments.refund_request(order=first, actor=finance, amount=Decimal("1000.00"))
    line = first.lines.get()
    payments.refund_request(
        order=first, actor=finance, lines=[payments.LineRefund(line=line.pk, quantity=1)]
    )
    return first, second


def test_rows_are_the_querysets_rows_column_for_column(orders):
    first, second = orders
    for order in (first, second):
        payment = order.payments.get()
        # JSON (next_action), decimals, datetimes and text come back converted as the ORM
        # converts them on this database.
        assert [_columns(row) for row in _PAYMENT(payment.pk)] == [_columns(payment)]
        assert [_columns(row) for row in _REFUNDS(order.pk)] == [
            _columns(row) for row in Refund.objects.filter(payment__order=order)
        ]
        assert [_columns(row) for row in order_lines(order.pk)] == [
            _columns(row) for row in order.lines.all()
        ]
    assert len(_REFUNDS(first.pk)) == 2  # the newest first, as Refund's ordering says
    assert _REFUNDS(first.pk)[0].amount == Decimal("2900.00")
    assert _REFUNDS(second.pk) == []


def test_each_run_takes_its_own_values_in_their_places(orders):
    first, second = orders
    assert [line.order_id for line in _LINES_OF_KIND(first.pk, 3)] == [first.pk]
    assert _LINES_OF_KIND(first.pk, 4) == []
    assert [line.order_id for line in _LINES_OF_KIND(second.pk, 1)] == [second.pk]
    assert _LINES_OF_KIND(second.pk, 2) == []
    assert _PAYMENT(10**9) == []


def test_one_statement_per_run_seen_by_the_query_log(orders):
    first, _second = orders
    payment = first.payments.get()
    _PAYMENT(payment.pk)  # compiled by now
    with CaptureQueriesContext(connection) as captured:
        _PAYMENT(payment.pk + 1)
        order_lines(first.pk)
    assert len(captured) == 2
    assert "payments_payment" in captured[0]["sql"]
    assert "payments_orderline" in captured[1]["sql"]


def test_payments_come_with_their_refunds_read_once(orders):
    first, second = orders
    for order in (first, second):
        with CaptureQueriesContext(connection) as captured:
            found = order_payments_with_refunds(order.pk)
            refunds = {payment.pk: list(payment.refunds.all()) for payment in found}
        assert len(captured) == 2  # the payments, then the refunds of them all
        expected = order_list().get(pk=order.pk).payments.all()
        assert [payment.pk for payment in found] == [payment.pk for payment in expected]
        assert {pk: [refund.pk for refund in rows] for pk, rows in refunds.items()} == {
            payment.pk: [refund.pk for refund in payment.refunds.all()] for payment in expected
        }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_lock_is_taken_inside_a_transaction_only(orders):
    first, _second = orders
    with pytest.raises(RuntimeError, match=r"transaction\.atomic"):
        lock_order(first.pk)
    locked = Compiled(lambda pk: Payment.objects.filter(pk=pk).select_for_update())
    with pytest.raises(RuntimeError, match=r"transaction\.atomic"):
        lock_compiled(locked, first.payments.get().pk)
    with transaction.atomic():
        assert lock_order(first.pk).pk == first.pk
        assert [p.pk for p in lock_compiled(locked, first.payments.get().pk)] == [
            first.payments.get().pk
        ]


def test_querysets_of_another_shape_are_refused():
    with pytest.raises(ValueError, match="plain querysets"):
        Compiled(lambda pk: Payment.objects.filter(pk=pk).select_related("order"))(1)
    with pytest.raises(ValueError, match="plain querysets"):
        Compiled(lambda pk: Payment.objects.filter(pk=pk).values("pk"))(1)
    with pytest.raises(ValueError, match="once among"):
        Compiled(lambda pk: Payment.objects.all())(1)
    with pytest.raises(ValueError, match="depends on its values"):
        Compiled(
            lambda pk: (
                Payment.objects.filter(pk=pk)
                if pk > 31_500
                else Payment.objects.filter(order_id=pk)
            )
        )(1)
    with pytest.raises(TypeError, match="1 values expected, 2 given"):
        _PAYMENT(1, 2)


def test_a_value_derived_from_another_never_passes_for_a_stand_in(orders):
    """A builder that derives a value from another (``pk + 100``, one set's spacing) and
    leaves a value unused is refused, not run with the value in the wrong place."""
    first, _second = orders
    line = first.lines.get()
    derived = Compiled(lambda pk, _unused: OrderLine.objects.filter(pk=pk, id__lt=pk + 100), 2)
    with pytest.raises(ValueError, match="once among"):
        derived(line.pk, 0)


def test_small_integer_columns_take_values_on_every_database(orders):
    """The stand-ins fit the smallest integer column (a ticket type's minimum quantity): the
    statement compiles and answers as the ORM does on every database."""
    from apps.business.tickets.models import TicketType

    at_most = Compiled(lambda n: TicketType.objects.filter(min_quantity__lte=n))
    for n in (0, 1, 5, 32_767):
        expected = TicketType.objects.filter(min_quantity__lte=n).values_list("pk", flat=True)
        assert sorted(row.pk for row in at_most(n)) == sorted(expected)
    assert len(at_most(32_767)) == TicketType.objects.count() == 1


def test_features_it_would_drop_are_refused():
    from apps.business.payments.models import Order

    for build in (
        lambda pk: Order.objects.filter(pk=pk).prefetch_related("lines"),
        lambda pk: Order.objects.using("default").filter(pk=pk),
        lambda pk: Order.objects.filter(pk=pk).union(Order.objects.filter(pk=pk)),
    ):
        with pytest.raises(ValueError, match="plain querysets"):
            Compiled(build)(1)
    with pytest.raises(ValueError, match="1 to 7 values"):
        Compiled(lambda *values: Order.objects.filter(pk=values[0]), 8)


_ORDER = Insert(Order)


def test_an_insert_stores_the_row_create_stores():
    user = UserFactory()
    values = order_values(user)
    before = timezone.now()
    inserted = _ORDER(values)
    after = timezone.now()
    created = Order.objects.create(**values)
    assert inserted.pk is not None
    assert inserted._state.adding is False
    assert inserted._state.db == "default"
    stored, expected = Order.objects.get(pk=inserted.pk), Order.objects.get(pk=created.pk)
    generated = {"id", "code", "created_at", "updated_at"}  # a key, a fresh code, the clock
    assert {k: v for k, v in _columns(stored).items() if k not in generated} == {
        k: v for k, v in _columns(expected).items() if k not in generated
    }
    # What the instance holds is what was stored: defaults and the timestamps filled in.
    assert _columns(inserted) == _columns(stored)
    assert stored.total == Decimal("8700.50")
    assert stored.status == "pending"
    assert len(stored.code) == len(expected.code) == 8
    assert stored.code != expected.code
    assert before <= stored.created_at <= stored.updated_at <= after


def test_each_insert_is_one_statement_and_takes_its_own_values():
    user, other = UserFactory(), UserFactory()
    with CaptureQueriesContext(connection) as captured:
        first = _ORDER(order_values(user))
        second = _ORDER({**order_values(other), "total": Decimal("1.00"), "email": ""})
    assert len(captured) == 2
    table = connection.ops.quote_name("payments_order")
    assert [q["sql"].split()[:3] for q in captured] == [["INSERT", "INTO", table]] * 2
    assert Order.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
    assert list(
        Order.objects.filter(pk__in=[first.pk, second.pk])
        .order_by("id")
        .values_list("user_id", "total", "email")
    ) == [(user.pk, Decimal("8700.50"), "ana@example.org"), (other.pk, Decimal("1.00"), "")]


def test_an_insert_sends_the_signals_save_sends():
    seen = []

    def before(sender, instance, raw, using, update_fields, **kwargs):
        seen.append(("pre", sender, instance.pk, raw, using, update_fields))

    def after(sender, instance, created, raw, using, update_fields, **kwargs):
        seen.append(("post", sender, instance.pk, created, raw, using, update_fields))

    pre_save.connect(before, sender=Order, weak=False)
    post_save.connect(after, sender=Order, weak=False)
    try:
        order = _ORDER(order_values(UserFactory()))
    finally:
        pre_save.disconnect(before, sender=Order)
        post_save.disconnect(after, sender=Order)
    assert seen == [
        ("pre", Order, None, False, "default", None),
        ("post", Order, order.pk, True, False, "default", None),
    ]


def test_a_refused_insert_raises_the_integrity_error_and_stores_nothing(orders):
    first, _second = orders
    ticket = first.tickets.first()
    gate = staff_member(Role.GATE_STAFF)
    check_in = Insert(CheckIn)
    values = {
        "ticket": ticket,
        "gate": "G1",
        "checked_in_at": timezone.now(),
        "checked_in_by": gate,
    }
    stored = check_in(values)
    with pytest.raises(IntegrityError), transaction.atomic():  # one check-in per ticket
        check_in({**values, "gate": "G2"})
    assert list(CheckIn.objects.filter(ticket=ticket).values_list("pk", "gate")) == [
        (stored.pk, "G1")
    ]


def test_models_that_do_more_when_saved_are_refused():
    with pytest.raises(ValueError, match="does more when saved"):
        Insert(Species)({"scientific_name": "Chelonia mydas"})  # save() derives a search key
    assert not Species.objects.exists()


def test_an_unsaved_related_object_is_refused_as_save_refuses_it():
    unsaved = Order(currency="CRC", total=Decimal("1.00"), channel="online")
    with pytest.raises(ValueError, match="unsaved related object 'order'"):
        Insert(Payment)({"order": unsaved, "method": "sandbox", "amount": Decimal("1.00")})
    assert not Payment.objects.exists()


def test_a_key_given_to_an_insert_is_refused():
    with pytest.raises(ValueError, match="key comes from the database"):
        _ORDER({**order_values(UserFactory()), "id": 424242})
    assert not Order.objects.filter(pk=424242).exists()
