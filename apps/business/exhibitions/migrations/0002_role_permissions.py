"""Content editors, curators and administrators write, publish and lock exhibitions, and
upload and use their pictures; they open the editors' screen (/cms/). Wagtail's own default
groups ("Moderators", "Editors") are removed: the park's roles are its only groups."""

from django.db import migrations

EXHIBITION = ["view", "add", "change", "publish", "lock", "unlock"]
IMAGE = ["add", "change", "choose"]
EDITORS = ("content_editor", "curator", "administrator")


def grant(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    Collection = apps.get_model("wagtailcore", "Collection")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")

    exhibition_type = ContentType.objects.get_for_model(apps.get_model("exhibitions", "Exhibition"))
    # Wagtail checks picture permissions on its own image model, per collection.
    image_type = ContentType.objects.get_for_model(apps.get_model("wagtailimages", "Image"))
    # Wagtail creates its extra verbs after migrating; a fresh database needs them now.
    for verb in ("publish", "lock", "unlock"):
        Permission.objects.get_or_create(
            content_type=exhibition_type,
            codename=f"{verb}_exhibition",
            defaults={"name": f"Can {verb} exhibition"},
        )
    # Wagtail's first migrations make groups of its own; the park's roles are the only groups.
    Group.objects.filter(name__in=("Moderators", "Editors")).delete()
    root = Collection.objects.filter(depth=1).first()
    for role in EDITORS:
        permissions = [f"exhibitions.{verb}_exhibition" for verb in EXHIBITION]
        permissions += [
            "exhibitions.view_exhibitionimage",
            "exhibitions.view_previewlink",
            "wagtailadmin.access_admin",
        ]
        if role == "administrator":
            permissions.append("exhibitions.delete_exhibition")
        grant_role_permissions(apps, role, permissions)
        group = Group.objects.get(name=role)
        if root is not None:
            for verb in IMAGE:
                GroupCollectionPermission.objects.get_or_create(
                    group=group,
                    collection=root,
                    permission=Permission.objects.get(
                        content_type=image_type, codename=f"{verb}_image"
                    ),
                )


class Migration(migrations.Migration):
    dependencies = [
        ("exhibitions", "0001_initial"),
        ("security", "0002_roles"),
        ("wagtailadmin", "0005_editingsession_is_editing"),
        ("wagtailcore", "0096_referenceindex_referenceindex_source_object_and_more"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
