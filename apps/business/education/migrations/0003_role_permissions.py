from django.db import migrations

EDUCATION_MODELS = ("program", "instructor", "session", "sessioninstructor", "enrollment")

PICTURES = [f"education.{verb}_programimage" for verb in ("view", "add", "change", "delete")]

ROLE_PERMISSIONS = {
    "educator": [
        *(f"education.{verb}_{model}" for model in EDUCATION_MODELS for verb in ("view", "change")),
        "education.add_program",
        "education.add_instructor",
        "education.add_session",
        "education.view_participant",
        *PICTURES,
    ],
    "content_editor": [
        "education.view_program",
        "education.add_program",
        "education.change_program",
        *PICTURES,
    ],
    "finance": [
        "education.view_program",
        "education.view_session",
        "education.view_enrollment",
    ],
}


def grant(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    for role, permissions in ROLE_PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("education", "0002_no_double_booking"),
        ("security", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
