"""The hash that chains each audit entry to the one before it."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "sequence",
    "occurred_at",
    "actor_id",
    "actor_label",
    "actor_roles",
    "action",
    "target_type",
    "target_id",
    "changes",
    "metadata",
    "request_id",
    "ip_address",
    "user_agent",
    "previous_hash",
)


def without_nul(value: Any) -> Any:
    """Text columns and PostgreSQL's jsonb cannot hold NUL characters: they become U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def json_normalise(value: Any) -> Any:
    """The value as it reads back from a JSON column (dates, decimals, UUIDs as strings)."""
    return without_nul(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the hashed fields (sorted keys, UTC time)."""
    payload = {name: fields[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = _canonical_time(payload["occurred_at"])
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
