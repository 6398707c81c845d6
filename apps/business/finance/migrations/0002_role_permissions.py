from django.db import migrations

READ = ["finance.view_salesday", "finance.view_salesdaytotal"]

ROLE_PERMISSIONS = {"finance": READ, "auditor": READ}


def grant(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    for role, permissions in ROLE_PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0001_sales_days"),
        ("security", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
