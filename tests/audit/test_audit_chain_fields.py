"""Every field of an audit entry is covered by the chain: changing any one of them in the
database is found, and the entry that was changed is named; the hash itself is pinned."""

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.support.audit import services as audit
from apps.support.audit.chain import HASHED_FIELDS, entry_hash
from apps.support.audit.models import AuditEvent
from apps.support.audit.selectors import audit_chain_first_break
from tests.audit.tampering import tamper, tampers

pytestmark = pytest.mark.django_db

ALTERED = "its content does not match its hash (altered)"
RELINKED = "previous_hash does not match the entry before it"

# Every column of an entry but its id and its own hash, with a value none of the entries
# below holds. Written by hand, not from HASHED_FIELDS: a field dropped there stays here.
FORGED: dict[str, Any] = {
    "occurred_at": "shifted by one second",
    "actor_id": 999,
    "actor_label": "someone@else.test",
    "actor_roles": '["administrator"]',
    "action": "test.forged",
    "target_type": "tests.other",
    "target_id": "999",
    "changes": '{"n": [0, 0]}',
    "metadata": '{"index": 99}',
    "request_id": "forged-request",
    "ip_address": "10.9.9.9",
    "user_agent": "forged-agent",
    "previous_hash": "f" * 64,
    "sequence": "swapped with the next entry",
}


def entries(count: int = 5) -> list[AuditEvent]:
    return [
        audit.record(
            action="test.chain",
            target_type="tests.thing",
            target_id=index,
            changes={"n": [index, index + 1]},
            metadata={"index": index},
        )
        for index in range(count)
    ]


def test_the_forged_fields_are_every_field_of_an_entry_and_all_are_hashed():
    columns = {field.column for field in AuditEvent._meta.concrete_fields} - {"id", "hash"}
    assert set(FORGED) == columns
    assert (set(HASHED_FIELDS), len(HASHED_FIELDS)) == (columns, len(columns))


@tampers
@pytest.mark.parametrize("field", sorted(FORGED))
def test_changing_any_field_of_an_entry_is_found_and_names_that_entry(field):
    events = entries()
    changed = events[2]
    named, reason = changed, ALTERED
    if field == "sequence":
        # Entries 3 and 4 trade places (through a free number: sequence is unique).
        for sequence, pk in ((100, changed.pk), (3, events[3].pk), (4, changed.pk)):
            tamper("UPDATE audit_auditevent SET sequence = %s WHERE id = %s", [sequence, pk])
        named, reason = events[3], RELINKED  # now third, and not linked to the second
    elif field == "occurred_at":
        moved = connection.ops.adapt_datetimefield_value(changed.occurred_at + timedelta(seconds=1))
        tamper("UPDATE audit_auditevent SET occurred_at = %s WHERE id = %s", [moved, changed.pk])
    else:
        column = connection.ops.quote_name(field)  # one of FORGED's keys
        sql = f"UPDATE audit_auditevent SET {column} = %s WHERE id = %s"  # noqa: S608
        tamper(sql, [FORGED[field], changed.pk])
        if field == "previous_hash":
            reason = RELINKED
    assert getattr(AuditEvent.objects.get(pk=changed.pk), field) != getattr(changed, field)

    broken, found, checked = audit_chain_first_break()

    assert (broken.pk if broken else None, found, checked) == (named.pk, reason, 3)
    action = FORGED["action"] if field == "action" else "test.chain"
    with pytest.raises(CommandError) as error:
        call_command("audit_verify")
    assert str(error.value) == (
        f"Audit chain broken at entry #3 (id {named.pk}, {action}): {reason}. "
        "2 entries before it are intact."
    )


@tampers
def test_an_entry_rewritten_with_a_fresh_hash_and_relinked_is_found_at_the_next_entry():
    """The attacker rewrites entry 3, computes its new hash, and points entry 4 at it: entry 4's
    own hash covers its previous_hash, so entry 4 no longer matches."""
    events = entries()
    rewritten = AuditEvent.objects.get(pk=events[2].pk)
    rewritten.metadata = {"index": 99}
    new_hash = entry_hash({name: getattr(rewritten, name) for name in HASHED_FIELDS})
    tamper(
        "UPDATE audit_auditevent SET metadata = %s, hash = %s WHERE id = %s",
        ['{"index": 99}', new_hash, rewritten.pk],
    )
    tamper("UPDATE audit_auditevent SET previous_hash = %s WHERE id = %s", [new_hash, events[3].pk])

    broken, reason, checked = audit_chain_first_break()

    assert (broken.pk if broken else None, reason, checked) == (events[3].pk, ALTERED, 4)


GOLDEN_FIELDS: dict[str, Any] = {
    "sequence": 7,
    "occurred_at": datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC),
    "actor_id": 42,
    "actor_label": "ana@parquemarino.test",
    "actor_roles": ["ticket_office"],
    "action": "payments.order_canceled",
    "target_type": "payments.order",
    "target_id": "17",
    "changes": {"status": ["paid", "canceled"]},
    "metadata": {"reason": "llamó la visitante", "refunded": ["2900.00"]},
    "request_id": "req-1",
    "ip_address": "203.0.113.7",
    "user_agent": "ParkApp/2.1",
    "previous_hash": "ab" * 32,
}
GOLDEN_CANONICAL = (
    '{"action":"payments.order_canceled","actor_id":42,"actor_label":"ana@parquemarino.test",'
    '"actor_roles":["ticket_office"],"changes":{"status":["paid","canceled"]},'
    '"ip_address":"203.0.113.7","metadata":{"reason":"llamó la visitante",'
    '"refunded":["2900.00"]},"occurred_at":"2026-11-30T12:00:00.123456Z",'
    '"previous_hash":"' + "ab" * 32 + '","request_id":"req-1","sequence":7,"target_id":"17",'
    '"target_type":"payments.order","user_agent":"ParkApp/2.1"}'
)
GOLDEN_HASH = "566077255e17bdac50edfbd90daa3b107215c4d0e0b1e9d2c36fd409523e3891"


def test_the_hash_of_a_fixed_entry_is_pinned():
    assert hashlib.sha256(GOLDEN_CANONICAL.encode()).hexdigest() == GOLDEN_HASH
    assert entry_hash(GOLDEN_FIELDS) == GOLDEN_HASH
    # The same moment written in another time zone is the same entry.
    costa_rica = GOLDEN_FIELDS["occurred_at"].astimezone(timezone(timedelta(hours=-6)))
    assert entry_hash({**GOLDEN_FIELDS, "occurred_at": costa_rica}) == GOLDEN_HASH


@pytest.mark.parametrize("field", sorted(GOLDEN_FIELDS))
def test_the_hash_changes_with_every_field(field):
    value = GOLDEN_FIELDS[field]
    if isinstance(value, datetime):
        other: Any = value + timedelta(microseconds=1)
    elif isinstance(value, int):
        other = value + 1
    elif isinstance(value, str):
        other = value[:-1] + ("0" if value[-1] != "0" else "1")
    else:
        other = json.loads(json.dumps(value).replace('"]', 'x"]'))
    assert other != value
    assert entry_hash({**GOLDEN_FIELDS, field: other}) != entry_hash(GOLDEN_FIELDS)
