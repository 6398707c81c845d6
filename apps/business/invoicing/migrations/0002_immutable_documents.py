"""Invoices and credit notes are never changed or deleted, whoever writes to the database.

On PostgreSQL a trigger refuses every UPDATE and DELETE of invoicing_invoice (the ORM, raw
SQL, a database console). Other databases (SQLite on laptops) rely on the ORM's guard.
"""

from django.db import migrations

UP = """
CREATE OR REPLACE FUNCTION invoicing_invoice_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'invoicing_invoice is immutable: ' || TG_OP || ' of ' || OLD.number || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER invoicing_invoice_immutable
    BEFORE UPDATE OR DELETE ON invoicing_invoice
    FOR EACH ROW EXECUTE FUNCTION invoicing_invoice_immutable();
"""
DOWN = """
DROP TRIGGER IF EXISTS invoicing_invoice_immutable ON invoicing_invoice;
DROP FUNCTION IF EXISTS invoicing_invoice_immutable();
"""


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """``RunSQL`` that does nothing on other databases."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0001_initial")]

    operations = [RunSQLOnPostgreSQL(UP, reverse_sql=DOWN)]
