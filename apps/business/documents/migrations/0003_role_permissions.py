from django.db import migrations

MODELS = ("folder", "tag", "document", "documentversion", "documentaccess", "sharelink")

ROLE_PERMISSIONS = {
    # Administrators: folders and tags written in the back office; documents, versions and
    # share links shown there (share links revoked, documents trashed and restored, through
    # the services), their rows never typed by hand.
    "administrator": [
        *(f"documents.{action}_{model}" for model in MODELS for action in ("view",)),
        "documents.add_folder",
        "documents.change_folder",
        "documents.delete_folder",
        "documents.add_tag",
        "documents.change_tag",
        "documents.change_document",
        "documents.change_sharelink",
    ],
    # The back office shows documents read-only to auditors; staff work through the API,
    # where folders' roles decide what each one sees.
    "auditor": [f"documents.view_{model}" for model in MODELS],
}


def grant(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    for role, permissions in ROLE_PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0002_text_search_index"),
        ("security", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
