from django.db import migrations

CAMPAIGN_WRITE = [f"donations.{verb}_campaign" for verb in ("view", "add", "change")]

ROLE_PERMISSIONS = {
    "finance": [*CAMPAIGN_WRITE, "donations.view_donation"],
    "content_editor": CAMPAIGN_WRITE,
    "auditor": ["donations.view_campaign", "donations.view_donation"],
}


def grant(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    for role, permissions in ROLE_PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0001_initial"),
        ("security", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
