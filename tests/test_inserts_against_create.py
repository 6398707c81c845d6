"""``Insert`` against ``Model.objects.create()`` with odd values, on every database (docs/adr/
0054): the same refusal (its exception class), or the same stored row and the same instance."""

import warnings
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from apps.business.payments.models import Order, Payment
from apps.business.tickets.models import CheckIn
from apps.support.audit.models import AuditEvent
from apps.support.common.statements import Insert
from apps.support.security.roles import Role
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import staff_member
from tests.sales import order_values, paid_order

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=123456)

GENERATED = {"id", "code", "created_at", "updated_at", "sequence", "hash", "ticket_id", "order_id"}
LONG = "x" * 600
NUL = "a\x00b"
CR = ZoneInfo("America/Costa_Rica")
KOLKATA = dt_timezone(timedelta(hours=5, minutes=30))


def _columns(instance) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in type(instance)._meta.concrete_fields
        if f.attname not in GENERATED
    }


def _attempt(make):
    """(exception class name, None) or (None, (instance columns, stored columns))."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # naive datetimes: as in production
        try:
            with transaction.atomic():
                instance = make()
        except Exception as error:
            return type(error).__name__, None
    try:
        stored = type(instance).objects.get(pk=instance.pk)
    except Exception as error:
        return "read back: " + type(error).__name__, None
    return None, (_columns(instance), _columns(stored))


def _compare(model, values_for):
    insert = Insert(model)
    got = _attempt(lambda: insert(values_for(0)))
    expected = _attempt(lambda: model.objects.create(**values_for(1)))
    assert got == expected


def _order(**odd):
    user = UserFactory()
    return lambda _n: order_values(user, expires_at=NOW + timedelta(minutes=15), **odd)


FIXED = datetime(2026, 12, 3, 10, 11, 12, 345678)  # noqa: DTZ001 (naive on purpose: one case of each)

ORDER_CASES: dict[str, dict[str, Any]] = {
    "nul email": {"email": NUL},
    "long email": {"email": LONG},
    "long cancel reason": {"cancel_reason": LONG},
    "nul cancel reason": {"cancel_reason": NUL},
    "many decimal places": {"total": Decimal("1.23456789")},
    "half cent": {"total": Decimal("0.005")},
    "too many digits": {"total": Decimal("123456789012.5")},
    "negative": {"total": Decimal("-3.10")},
    "nan": {"total": Decimal("NaN")},
    "costa rica time": {"expires_at": FIXED.replace(tzinfo=CR)},
    "kolkata time": {"expires_at": FIXED.replace(tzinfo=KOLKATA)},
    "naive time": {"expires_at": FIXED},
    "no users": {"user": None, "created_by": None},
    "unicode email": {"email": "ñandú🐢@example.org"},
    "paid at naive": {"paid_at": FIXED},
    "status odd": {"status": "no-such-status"},
    "currency long": {"currency": "CRCX"},
}


@pytest.mark.parametrize("case", ORDER_CASES)
def test_order(case):
    _compare(Order, _order(**ORDER_CASES[case]))


PAYMENT_CASES: dict[str, dict[str, Any]] = {
    "nested unicode json": {
        "next_action": {"a": ["ñ", {"b": "\u2603", "c": None, "d": [1, 2.5, True]}], "🐢": "x"}
    },
    "json nul": {"next_action": {"k": NUL}},
    "json nul key": {"next_action": {NUL: 1}},
    "json list": {"next_action": [1, "two", None]},
    "json scalar string": {"next_action": "text"},
    "json none": {"next_action": None},
    "json big int": {"next_action": {"n": 10**30}},
    "json decimal": {"next_action": {"n": 1.0000000000000002}},
    "many places": {"amount": Decimal("10.999")},
    "long failure message": {"failure_message": LONG},
    "nul failure": {"failure_message": NUL},
    "aware succeeded": {"succeeded_at": FIXED.replace(tzinfo=KOLKATA)},
    "no creator": {"created_by": None},
}


@pytest.mark.parametrize("case", PAYMENT_CASES)
def test_payment(case):
    orders = [Order.objects.create(**_order()(0)) for _ in range(2)]

    def values(n):
        order = orders[n]
        return {
            "order": order,
            "method": "card",
            "amount": order.total,
            "currency": "CRC",
            "created_by": orders[0].user,
            **PAYMENT_CASES[case],
        }

    _compare(Payment, values)


CHECK_IN_CASES: dict[str, dict[str, Any]] = {
    "plain": {},
    "nul gate": {"gate": NUL},
    "long gate": {"gate": LONG},
    "unicode gate": {"gate": "Puerta ñ 🐬"},
    "kolkata": {"checked_in_at": FIXED.replace(tzinfo=KOLKATA)},
    "costa rica": {"checked_in_at": FIXED.replace(tzinfo=CR)},
    "naive": {"checked_in_at": FIXED},
    "no gatekeeper": {"checked_in_by": None},
}


@pytest.mark.parametrize("case", CHECK_IN_CASES)
def test_check_in(case):
    order = paid_order(UserFactory(), TimeSlotFactory(capacity=5), TicketTypeFactory(), 2)
    tickets = list(order.tickets.order_by("pk"))
    gate = staff_member(Role.GATE_STAFF)

    def values(n):
        return {
            "ticket": tickets[n],
            "gate": "G1",
            "checked_in_at": NOW,
            "checked_in_by": gate,
            **CHECK_IN_CASES[case],
        }

    _compare(CheckIn, values)


AUDIT_CASES: dict[str, dict[str, Any]] = {
    "plain": {},
    "nul action": {"action": NUL},
    "long action": {"action": LONG},
    "long label": {"actor_label": LONG},
    "nul label": {"actor_label": NUL},
    "long user agent": {"user_agent": LONG},
    "nul metadata": {"metadata": {"k": NUL}},
    "unicode metadata": {"metadata": {"ñ": ["🐢", {"z": None}]}, "changes": {"a": [1, "b"]}},
    "ipv6": {"ip_address": "::ffff:10.0.0.1"},
    "bad ip": {"ip_address": "not-an-ip"},
    "roles none": {"actor_roles": None},
    "kolkata": {"occurred_at": FIXED.replace(tzinfo=KOLKATA)},
    "naive": {"occurred_at": FIXED},
    "huge actor id": {"actor_id": 2**63},
}


@pytest.mark.parametrize("case", AUDIT_CASES)
def test_audit_event(case):
    def values(n):
        return {
            "sequence": 10**9 + n,
            "occurred_at": NOW,
            "actor_id": None,
            "actor_label": "system",
            "actor_roles": [],
            "action": "review.check",
            "target_type": "",
            "target_id": "",
            "changes": {},
            "metadata": {},
            "request_id": "",
            "ip_address": None,
            "user_agent": "",
            "previous_hash": "0" * 64,
            "hash": f"{n:064d}",
            **AUDIT_CASES[case],
        }

    _compare(AuditEvent, values)
