"""The staff roles, as groups with the permissions of the models that exist today."""

from django.db import migrations

ROLES = (
    "administrator",
    "curator",
    "veterinarian",
    "aquarist",
    "educator",
    "content_editor",
    "ticket_office",
    "gate_staff",
    "finance",
    "auditor",
)
PERMISSIONS = {
    "administrator": (
        "security.view_user",
        "security.add_user",
        "security.change_user",
        "auth.view_group",
        "audit.view_auditevent",
    ),
    "auditor": ("audit.view_auditevent",),
}


def create_roles(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    for role, permissions in PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0001_initial"),
        ("audit", "0002_chain_head_and_append_only_triggers"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
