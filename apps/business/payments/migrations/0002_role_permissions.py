from django.db import migrations

ROLE_PERMISSIONS = {
    "ticket_office": ["payments.view_order", "payments.view_orderline", "payments.view_payment"],
    "finance": [
        "payments.view_order",
        "payments.view_orderline",
        "payments.view_payment",
        "payments.view_refund",
        "payments.view_webhookevent",
    ],
}


def grant(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    for role, permissions in ROLE_PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("security", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
