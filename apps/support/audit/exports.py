"""The audit trail as CSV, streamed so a year of entries never sits in memory."""

from collections.abc import Iterator

from django.db.models import QuerySet

from apps.support.common.csv_export import csv_lines

from .chain import HASHED_FIELDS
from .models import AuditEvent

# What an auditor reads: every hashed field but the link, then the entry's own hash.
COLUMNS = (*(name for name in HASHED_FIELDS if name != "previous_hash"), "hash")


def audit_events_csv(events: QuerySet[AuditEvent]) -> Iterator[str]:
    rows = events.iterator(chunk_size=2000)
    return csv_lines(COLUMNS, ([getattr(event, column) for column in COLUMNS] for event in rows))
