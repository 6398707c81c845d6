"""The chain's head row, and database triggers that make the audit table append-only.

On PostgreSQL and MySQL/MariaDB, UPDATE and DELETE on audit_auditevent fail whoever sends them
(the ORM, raw SQL, a database console). SQLite, used only on laptops, relies on the ORM guard.
"""

from django.db import migrations

GENESIS_HASH = "0" * 64

POSTGRESQL_UP = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'audit_auditevent is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
"""
POSTGRESQL_DOWN = """
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_append_only();
"""
MYSQL_UP = [
    """
    CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_auditevent is append-only: UPDATE refused'
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_auditevent is append-only: DELETE refused'
    """,
]
MYSQL_DOWN = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]


def create_head(apps, schema_editor):
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditChainHead.objects.get_or_create(pk=1, defaults={"sequence": 0, "last_hash": GENESIS_HASH})


def install_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_UP)
    elif vendor == "mysql":
        for statement in MYSQL_UP:
            schema_editor.execute(statement)


def remove_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DOWN)
    elif vendor == "mysql":
        for statement in MYSQL_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    # MySQL/MariaDB cannot create a trigger inside a transaction (its DDL commits at once):
    # each operation runs on its own there. PostgreSQL loses nothing by it.
    atomic = False

    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
