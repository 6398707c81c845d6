from django.db.models import QuerySet

from .chain import GENESIS_HASH, HASHED_FIELDS, entry_hash
from .models import AuditChainHead, AuditEvent


def audit_event_list() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.order_by("-sequence")


def audit_chain_first_break() -> tuple[AuditEvent | None, str, int]:
    """Walks the chain as far as the head said it reached when the walk began; returns the first
    entry that does not fit, why, and how many entries were checked (``(None, "", n)`` when
    the chain is intact). Entries written during the walk are left for the next one.

    The head's own hash must be the last entry's: that is what pins down the newest entry (a
    rewritten last entry with a recomputed hash would otherwise pass).
    """
    head = AuditChainHead.objects.get(pk=1)
    previous_hash = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    events = AuditEvent.objects.filter(sequence__lte=head.sequence).order_by("sequence")
    for event in events.iterator(chunk_size=2000):
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
    if checked != head.sequence:
        return (
            None,
            f"the chain head says {head.sequence} entries were written (entries were removed)",
            checked,
        )
    if previous_hash != head.last_hash:
        return None, "the newest entry does not match the chain head's hash (altered)", checked
    return None, "", checked
