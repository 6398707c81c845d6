"""The audit trail as CSV, streamed so a year of entries never sits in memory."""

import csv
import json
from collections.abc import Iterator

from django.db.models import QuerySet

from .chain import HASHED_FIELDS
from .models import AuditEvent

# What an auditor reads: every hashed field but the link, then the entry's own hash.
COLUMNS = (*(name for name in HASHED_FIELDS if name != "previous_hash"), "hash")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> object:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: a cell starting with = + - @ is shown, never run.
    if text[:1] in ("=", "+", "-", "@"):
        return "'" + text
    return text


def audit_events_csv(events: QuerySet[AuditEvent]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in events.iterator(chunk_size=2000):
        yield writer.writerow([_cell(getattr(event, column)) for column in COLUMNS])
