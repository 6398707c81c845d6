"""On PostgreSQL the database itself refuses overlapping bookings of one place or one
instructor, with exclusion constraints over the session's time range (btree_gist lets an id
take part with ``=``). A place is a habitat, or a whole section: every session carries its
section, and its habitat as the range ``[habitat, habitat + 1)`` of habitat ids, unbounded for
a whole-section session, so that a whole-section session overlaps every habitat of its section
and a habitat session only its own habitat. Other databases rely on the services' check under
the section's and the instructors' row locks (docs/adr/0028)."""

from django.db import migrations

CONSTRAINTS = [
    (
        "education_session",
        "session_place_no_overlap",
        "section_id WITH =, int8range(habitat_id, habitat_id + 1) WITH &&, "
        "tstzrange(starts_at, ends_at, '[)') WITH &&",
        "status <> 'cancelled'",
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
