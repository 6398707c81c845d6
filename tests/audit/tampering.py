"""What an attacker with database superuser rights could do to the audit trail."""

from typing import Any

from django.db import connection


def tamper(sql: str, params: list[Any]) -> None:
    """Run ``sql`` past the append-only trigger (PostgreSQL), as a superuser could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
