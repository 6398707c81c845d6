"""Many entries with odd values, and refused entries inside savepoints,
leave a chain that audit_verify finds intact, and the head where it was (docs/adr/0054: on
PostgreSQL the head moves in the entry's own statement)."""

import io
from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from apps.support.audit import services as audit
from apps.support.audit.models import AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue().strip()


REFUSED = [
    {"action": "x" * 101},
    {"action": "a\x00b"},
    {"action": "ok", "target_type": "t" * 101},
    {"action": "ok", "target_type": "a\x00b"},
]


def test_many_entries_and_refused_ones_in_savepoints_leave_the_chain_intact():
    kolkata = dt_timezone(timedelta(hours=5, minutes=30))
    stored = 0
    for index in range(120):
        with transaction.atomic():
            audit.record(
                action=f"review.{index % 7}",
                target_type="review.thing",
                target_id="ñ\x00" * 40 if index % 5 == 0 else index,
                metadata={
                    "i": index,
                    "ñ": ["🐢", {"nul": "a\x00b", "when": str(timezone.now().astimezone(kolkata))}],
                    "long": "z" * 5000,
                    "nested": {"a": {"b": {"c": [None, True, 1.5]}}},
                },
                changes={"amount": ["1.005", "2.50"]},
            )
        stored += 1
        if index % 10 == 0:
            bad = REFUSED[(index // 10) % len(REFUSED)]
            head: tuple[int, str] | None = AuditChainHead.objects.values_list(
                "sequence", "last_hash"
            ).get()
            try:
                with transaction.atomic():
                    audit.record(**bad)
            except (DatabaseError, ValueError):
                pass
            else:
                stored += 1  # this database took it (SQLite has no lengths)
                head = None
            if head is not None:
                assert AuditChainHead.objects.values_list("sequence", "last_hash").get() == head
    assert AuditEvent.objects.count() == stored
    assert verify() == f"Audit chain intact: {stored} entries verified."
