"""The restore drill: a populated installation (migrate and seed_demo: accounts, animals,
sales, documents with files, the audit trail) backed up with scripts/backup, restored with
scripts/restore into a new database and new folders; the copy has every row (counted table by
table against the original, not only against the manifest), its audit chain verifies and every
document file's checksum matches. A damaged backup or a database that is not empty is refused
before anything is written.

Runs on SQLite always and on PostgreSQL when the suite does (DATABASE_URL). On MySQL/MariaDB
the backup command refuses, naming the tool to use (docs/adr/0039): that is what is tested
there."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.processes import database_url

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = connection.vendor == "postgresql"
MYSQL = connection.vendor == "mysql"
drill = pytest.mark.skipif(
    MYSQL,
    reason="scripts/backup refuses MySQL/MariaDB (docs/adr/0039): the drill runs in the "
    "SQLite and PostgreSQL suites",
)


class Installation:
    """One installation's environment: a database and its media and documents folders."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.database_url = database_url
        self.media = folder / "media"
        self.documents = folder / "documents"

    def env(self) -> dict[str, str]:
        clean = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "SECRET_", "PYTEST_XDIST")
            )
        }
        return {
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings.development",
            "DATABASE_URL": self.database_url,
            "MEDIA_ROOT": str(self.media),
            "DOCUMENTS_ROOT": str(self.documents),
            "PYTHON": sys.executable,
        }

    def run(self, *command: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            list(command),
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return self.run(sys.executable, "manage.py", *args)

    def counts(self) -> dict[str, int]:
        code = (
            "import django, json; django.setup()\n"
            "from apps.support.common.backup import _counts, _tables\n"
            "from django.db import connection\n"
            "with connection.cursor() as c: print(json.dumps(_counts(c, _tables())))"
        )
        result = self.run(sys.executable, "-c", code)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def files(self) -> dict[str, bytes]:
        return {
            str(path.relative_to(self.folder)): path.read_bytes()
            for path in sorted(self.folder.rglob("*"))
            if path.is_file() and path.suffix != ".sqlite3"
        }


def server(statement: str) -> None:
    """Run CREATE or DROP DATABASE on the suite's PostgreSQL server (outside any transaction,
    apart from the test database's connection)."""
    import psycopg

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute(statement)


def new_database(folder: Path, name: str) -> str:
    if not POSTGRES:
        return f"sqlite:///{folder / f'{name}.sqlite3'}"
    database = f"drill_{name}_{uuid.uuid4().hex[:8]}"
    server(f'CREATE DATABASE "{database}"')
    db = settings.DATABASES["default"]
    return (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{database}"
    )


def drop(database_url: str) -> None:
    if POSTGRES:
        server(f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture
def installations(tmp_path):
    made: list[Installation] = []

    def make(name: str) -> Installation:
        installation = Installation(tmp_path / name, new_database(tmp_path, name))
        installation.folder.mkdir()
        made.append(installation)
        return installation

    yield make
    for installation in made:
        drop(installation.database_url)


@pytest.fixture
def original(installations):
    park = installations("original")
    for command in (("migrate", "-v0"), ("seed_demo", "--no-progress", "-v0")):
        result = park.manage(*command)
        assert result.returncode == 0, result.stderr
    return park


@drill
def test_restore_drill(original, installations, tmp_path):
    backup = tmp_path / "backup"
    made = original.run("scripts/backup", str(backup))
    assert made.returncode == 0, made.stderr
    manifest = json.loads((backup / "manifest.json").read_text())
    before = original.counts()
    assert manifest["tables"] == before
    assert before["audit_auditevent"] > 0
    assert before["documents_documentversion"] >= 2
    assert manifest["files"]["documents"]["count"] == before["documents_documentversion"]
    copy = installations("copy")

    # A damaged copy of the backup is refused before anything is written.
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    dump = damaged / manifest["database"]["file"]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    refused = copy.run("scripts/restore", str(damaged))
    assert refused.returncode != 0
    assert f"{dump.name} is damaged" in refused.stderr
    assert not copy.media.exists()
    assert not copy.documents.exists()
    assert table_count(copy) == 0

    # The backup itself restores whole.
    restored = copy.run("scripts/restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith(f"Restored {len(before)} tables ({sum(before.values())} rows")
    assert "audit chain intact" in restored.stdout
    # Counted again in the copy, table by table, against the original itself.
    assert copy.counts() == before
    assert copy.files() == {
        path.replace("original/", "copy/", 1): data for path, data in original.files().items()
    }
    for check in (("audit_verify",), ("documents_verify", "--no-progress")):
        result = copy.manage(*check)
        assert result.returncode == 0, result.stdout + result.stderr

    # Restoring again over the copy is refused: its database is no longer empty.
    again = copy.run("scripts/restore", str(backup))
    assert again.returncode != 0
    assert "is not empty" in again.stderr
    assert copy.counts() == before


def table_count(installation: Installation) -> int:
    result = installation.run(
        sys.executable,
        "-c",
        "import django; django.setup(); from django.db import connection; "
        "print(len(connection.introspection.table_names()))",
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


@drill
def test_a_backup_goes_into_a_new_folder_only(tmp_path, installations):
    park = installations("original")
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "something").write_text("x")
    result = park.run("scripts/backup", str(folder))
    assert result.returncode != 0
    assert "is not empty: give a new folder" in result.stderr


@pytest.mark.skipif(not MYSQL, reason="the refusal of MySQL/MariaDB")
@pytest.mark.django_db
def test_a_backup_of_mysql_is_refused_with_the_tool_to_use(tmp_path):
    park = Installation(tmp_path / "park", database_url())
    park.folder.mkdir()
    result = park.run("scripts/backup", str(tmp_path / "backup"))
    assert result.returncode != 0
    assert "Backups of mysql are not made by this command" in result.stderr
    assert "mariadb-dump --single-transaction --routines --triggers" in result.stderr
