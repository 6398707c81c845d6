from django.db.models import QuerySet

from .chain import GENESIS_HASH, HASHED_FIELDS, entry_hash
from .models import AuditEvent


def audit_event_list() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.order_by("-sequence")


def audit_chain_first_break() -> tuple[AuditEvent | None, str, int]:
    """Walks the chain in order; returns the first entry that does not fit, why, and how many
    entries were checked. ``(None, "", n)`` when the whole chain is intact.
    """
    previous_hash = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=2000):
        checked += 1
        if event.sequence != expected_sequence:
            return event, f"sequence {expected_sequence} is missing", checked
        if event.previous_hash != previous_hash:
            return event, "previous_hash does not match the entry before it", checked
        fields = {name: getattr(event, name) for name in HASHED_FIELDS}
        if entry_hash(fields) != event.hash:
            return event, "its content does not match its hash (altered)", checked
        previous_hash = event.hash
        expected_sequence += 1
    return None, "", checked
