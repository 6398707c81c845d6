"""IUCN Red List categories, and what each role may do with wildlife records in the back office."""

from django.db import migrations

IUCN = [
    ("EX", "Extinto", "Extinct", 0),
    ("EW", "Extinto en estado silvestre", "Extinct in the Wild", 1),
    ("CR", "En peligro crítico", "Critically Endangered", 2),
    ("EN", "En peligro", "Endangered", 3),
    ("VU", "Vulnerable", "Vulnerable", 4),
    ("NT", "Casi amenazado", "Near Threatened", 5),
    ("LC", "Preocupación menor", "Least Concern", 6),
    ("DD", "Datos insuficientes", "Data Deficient", 7),
    ("NE", "No evaluado", "Not Evaluated", 8),
]

ALL = ("view", "add", "change", "delete")
PERMISSIONS = {
    "administrator": [
        f"wildlife.{action}_{model}"
        for model in ("species", "speciesimage", "animal", "animallocation", "weight", "medicalrecord")
        for action in ALL
    ]
    + ["wildlife.view_conservationstatus"],
    "curator": [
        f"wildlife.{action}_{model}"
        for model in ("species", "speciesimage", "animal")
        for action in ("view", "add", "change")
    ]
    + ["wildlife.view_animallocation", "wildlife.view_weight", "wildlife.add_weight",
       "wildlife.view_conservationstatus"],
    "veterinarian": [
        "wildlife.view_species",
        "wildlife.view_animal",
        "wildlife.view_animallocation",
        "wildlife.view_weight",
        "wildlife.add_weight",
        "wildlife.view_medicalrecord",
        "wildlife.add_medicalrecord",
        "wildlife.change_medicalrecord",
    ],
    "aquarist": ["wildlife.view_species", "wildlife.view_animal", "wildlife.view_animallocation"],
}


def load(apps, schema_editor):
    from apps.support.security.roles import grant_role_permissions

    ConservationStatus = apps.get_model("wildlife", "ConservationStatus")
    for code, name_es, name_en, rank in IUCN:
        ConservationStatus.objects.update_or_create(
            code=code, defaults={"name_es": name_es, "name_en": name_en, "rank": rank}
        )
    for role, permissions in PERMISSIONS.items():
        grant_role_permissions(apps, role, permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("wildlife", "0001_initial"),
        ("security", "0002_roles"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
