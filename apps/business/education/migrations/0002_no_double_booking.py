"""On PostgreSQL the database itself refuses overlapping bookings of one place or one
instructor (exclusion constraints over the session's time range; btree_gist lets an id take
part with ``=``). Other databases rely on the services' check under the place's and the
instructors' row locks (docs/adr/0028)."""

from django.db import migrations

CONSTRAINTS = [
    (
        "education_session",
        "session_habitat_no_overlap",
        "habitat_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
        "status <> 'cancelled' AND habitat_id IS NOT NULL",
    ),
    (
        "education_session",
        "session_section_no_overlap",
        "section_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
        "status <> 'cancelled' AND section_id IS NOT NULL",
    ),
    (
        "education_sessioninstructor",
        "session_instructor_no_overlap",
        "instructor_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&",
        "is_active",
    ),
]


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    for table, name, expressions, condition in CONSTRAINTS:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} "
            f"EXCLUDE USING gist ({expressions}) WHERE ({condition})"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _expressions, _condition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("education", "0001_initial")]

    operations = [migrations.RunPython(add, remove)]
