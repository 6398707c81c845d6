"""Invoices and credit notes are never changed or deleted on MySQL/MariaDB either: triggers
refuse every UPDATE and DELETE of invoicing_invoice there, as 0002's trigger does on
PostgreSQL (the ORM, raw SQL, a database console). Nothing on other databases.
"""

from django.db import migrations

UP = [
    f"""
    CREATE TRIGGER invoicing_invoice_no_{operation.lower()}
    BEFORE {operation} ON invoicing_invoice FOR EACH ROW
    BEGIN
        DECLARE message VARCHAR(128)
            DEFAULT CONCAT('invoicing_invoice is immutable: {operation} of ', OLD.number, ' refused');
        SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = message;
    END
    """
    for operation in ("UPDATE", "DELETE")
]
DOWN = [
    "DROP TRIGGER IF EXISTS invoicing_invoice_no_update",
    "DROP TRIGGER IF EXISTS invoicing_invoice_no_delete",
]


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        for statement in UP:
            schema_editor.execute(statement)


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "mysql":
        for statement in DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    # MySQL/MariaDB cannot create a trigger inside a transaction (its DDL commits at once).
    atomic = False

    dependencies = [("invoicing", "0004_unique_on_mysql")]

    operations = [migrations.RunPython(install_triggers, remove_triggers)]
