from django.db import migrations

# Finance reconciles invoices; auditors read them. Nobody adds, changes or deletes them.
ROLE_PERMISSIONS = {
    "finance": ["invoicing.view_invoice", "invoicing.view_invoicecounter"],
    "auditor": ["invoicing.view_invoice", "invoicing.view_invoicecounter"],
}


def grant(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    for role, permissions in ROLE_PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0002_immutable_documents"),
        ("security", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
