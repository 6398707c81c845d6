"""What each role may do with sections, habitats and water quality in the back office."""

from django.db import migrations

PERMISSIONS = {
    "administrator": [
        f"infrastructure.{action}_{model}"
        for model in ("section", "habitat", "watertargetrange", "waterreading", "wateralert")
        for action in ("view", "add", "change", "delete")
    ],
    "aquarist": [
        "infrastructure.view_section",
        "infrastructure.view_habitat",
        "infrastructure.view_watertargetrange",
        "infrastructure.add_watertargetrange",
        "infrastructure.change_watertargetrange",
        "infrastructure.view_waterreading",
        "infrastructure.view_wateralert",
    ],
    "curator": ["infrastructure.view_section", "infrastructure.view_habitat"],
    "veterinarian": ["infrastructure.view_section", "infrastructure.view_habitat"],
}


def grant(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    for role, permissions in PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("infrastructure", "0001_initial"),
        ("security", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
