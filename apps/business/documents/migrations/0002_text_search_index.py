"""PostgreSQL only: a GIN index over the full-text vector of the versions' PDF text, the
expression ``selectors.document_search`` filters on (docs/adr/0036). Other databases search
the text with a substring match and get no index here."""

from django.db import migrations

INDEX = "document_version_text_fts"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON documents_documentversion "
    "USING GIN (to_tsvector('simple'::regconfig, COALESCE(text, '')))"
)
DROP = f"DROP INDEX IF EXISTS {INDEX}"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
