"""What an attacker with database superuser rights could do to the audit trail."""

import importlib
from typing import Any

import pytest
from django.db import connection

triggers = importlib.import_module(
    "apps.support.audit.migrations.0002_chain_head_and_append_only_triggers"
)

# MySQL/MariaDB cannot disable a trigger: it is dropped and created again, and that DDL commits
# whatever the connection's transaction holds. A test that tampers runs with real transactions
# there (its tables are emptied afterwards, conftest.py).
tampers = pytest.mark.django_db(
    transaction=connection.vendor == "mysql", serialized_rollback=connection.vendor == "mysql"
)


def tamper(sql: str, params: list[Any]) -> None:
    """Run ``sql`` past the append-only trigger (PostgreSQL, MySQL/MariaDB), as a superuser
    could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        elif connection.vendor == "mysql":
            assert not connection.in_atomic_block, "mark the test @tampers"
            for statement in triggers.MYSQL_DOWN:
                cursor.execute(statement)
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only"
                )
            elif connection.vendor == "mysql":
                for statement in triggers.MYSQL_UP:
                    cursor.execute(statement)
