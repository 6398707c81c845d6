"""Backups of a whole installation and their restore (docs/deployment, "Backups").

A backup is a folder: the database (PostgreSQL: ``pg_dump`` in its custom format; SQLite: a
copy made with SQLite's online backup), the local files (media and documents, one ``.tar.gz``
each; files in S3 stay in the bucket, whose versioning keeps them) and ``manifest.json``: the
row count of every table and the audit trail's last entry, read in the same snapshot as the
dump, and the SHA-256 of every file of the backup.

A restore goes into an empty database and empty file folders only, after checking every
checksum, and then proves itself: the row count of every table equals the manifest's, and the
audit chain verifies entry by entry.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connection, transaction
from django.utils import timezone

from . import readcache

FORMAT = 1
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup cannot be made or restored; the message says why and what to do."""


# --- What is backed up --------------------------------------------------------------------


def _tables() -> list[str]:
    """Every table of the project's models (many-to-many tables included), sorted."""
    names = set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            names.add(model._meta.db_table)
    existing = set(connection.introspection.table_names())
    return sorted(names & existing)


def _counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    quote = connection.ops.quote_name
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")  # noqa: S608 (names from models)
        counts[table] = cursor.fetchone()[0]
    return counts


def _audit_head(cursor: Any) -> dict[str, Any]:
    from apps.support.audit.models import AuditEvent

    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    cursor.execute(
        f"SELECT sequence, hash FROM {table} ORDER BY sequence DESC LIMIT 1"  # noqa: S608
    )
    row = cursor.fetchone()
    return {"last_sequence": row[0], "last_hash": row[1]} if row else {}


def _local_roots() -> dict[str, Path | None]:
    """The folders of the file storages kept on this machine; None for one elsewhere (S3)."""
    roots: dict[str, Path | None] = {}
    for name, alias in (("media", "default"), ("documents", "documents")):
        storage = storages[alias]
        roots[name] = Path(storage.location) if isinstance(storage, FileSystemStorage) else None
    return roots


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files_under(root: Path) -> Iterator[Path]:
    if root.is_dir():
        yield from sorted(path for path in root.rglob("*") if path.is_file())


# --- Backup -------------------------------------------------------------------------------


@dataclass
class Manifest:
    data: dict[str, Any]

    @property
    def rows(self) -> int:
        return sum(self.data["tables"].values())


def _database_command_env() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432)]
    args += ["-U", db.get("USER") or "postgres"]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client).")
    result = subprocess.run(  # noqa: S603 (pg_dump/pg_restore with the settings' own values)
        command, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")


def backup_create(destination: Path) -> Manifest:
    """Write a backup into ``destination`` (a new folder) and return its manifest."""
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty: give a new folder.")
    destination.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    tables = _tables()
    data: dict[str, Any] = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": {"vendor": vendor},
    }
    if vendor == "postgresql":
        dump = destination / "database.dump"
        # The counts and the dump read one snapshot: exported by this transaction, which
        # stays open (reading only) while pg_dump runs.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            data["tables"] = _counts(cursor, tables)
            data["audit"] = _audit_head(cursor)
            args, env = _database_command_env()
            _run(
                [
                    "pg_dump",
                    *args,
                    "--format=custom",
                    "--no-owner",
                    "--no-acl",
                    f"--snapshot={snapshot}",
                    "--file",
                    str(dump),
                    settings.DATABASES["default"]["NAME"],
                ],
                env,
            )
    elif vendor == "sqlite":
        dump = destination / "database.sqlite3"
        target = sqlite3.connect(dump)
        try:
            connection.ensure_connection()
            connection.connection.backup(target)
        finally:
            target.close()
        with sqlite3.connect(dump) as copy:
            data["tables"] = _counts(copy.cursor(), tables)
            data["audit"] = _audit_head(copy.cursor())
    else:
        raise BackupError(
            f"Backups of {vendor} are not made by this command: use the database's own tool "
            "(mariadb-dump --single-transaction --routines --triggers) and copy the files."
        )
    data["database"].update(file=dump.name, sha256=_sha256(dump))
    # The files after the database: they are written before their rows and never changed, so
    # every file a row of the dump names is in the archive (unless deleted for good meanwhile:
    # documents_verify names it after a restore).
    data["files"] = {}
    for name, root in _local_roots().items():
        if root is None:
            data["files"][name] = {"storage": "remote (kept by the bucket, not in this backup)"}
            continue
        archive = destination / f"{name}.tar.gz"
        count = 0
        with tarfile.open(archive, "w:gz") as tar:
            for path in _files_under(root):
                tar.add(path, arcname=str(path.relative_to(root)))
                count += 1
        data["files"][name] = {"file": archive.name, "sha256": _sha256(archive), "count": count}
    (destination / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return Manifest(data)


# --- Restore ------------------------------------------------------------------------------


@dataclass
class Restored:
    manifest: Manifest
    audit_entries: int
    files: dict[str, int] = field(default_factory=dict)


def _read_manifest(source: Path) -> Manifest:
    try:
        data = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{source} holds no readable {MANIFEST}: {error}") from error
    if data.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {data.get('format')!r} (expected {FORMAT}).")
    for part in [data["database"], *data["files"].values()]:
        if "file" in part and _sha256(source / part["file"]) != part["sha256"]:
            raise BackupError(
                f"{part['file']} is damaged: its SHA-256 differs from the manifest's."
            )
    return Manifest(data)


def _database_is_empty() -> bool:
    return not connection.introspection.table_names()


def _restore_database(source: Path, manifest: Manifest) -> None:
    vendor = manifest.data["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(f"The backup is of {vendor}; DATABASE_URL is {connection.vendor}.")
    if not _database_is_empty():
        raise BackupError("The database of DATABASE_URL is not empty: restore into a new one.")
    dump = source / manifest.data["database"]["file"]
    if vendor == "postgresql":
        args, env = _database_command_env()
        _run(
            [
                "pg_restore",
                *args,
                "--no-owner",
                "--no-acl",
                "--exit-on-error",
                "--single-transaction",
                "--dbname",
                settings.DATABASES["default"]["NAME"],
                str(dump),
            ],
            env,
        )
    else:
        connection.ensure_connection()
        with sqlite3.connect(dump) as backup:
            backup.backup(connection.connection)
    connection.close()


def _restore_files(source: Path, manifest: Manifest) -> dict[str, int]:
    restored = {}
    roots = _local_roots()
    for name, part in manifest.data["files"].items():
        root = roots.get(name)
        if "file" not in part or root is None:
            continue
        with tarfile.open(source / part["file"], "r:gz") as tar:
            tar.extractall(root, filter="data")
        restored[name] = part["count"]
    return restored


def backup_restore(source: Path) -> Restored:
    """Restore the backup in ``source`` into the (empty) database and file folders of the
    settings, then check it: every table's row count and the audit chain."""
    from apps.support.audit.selectors import audit_chain_first_break

    manifest = _read_manifest(source)
    # Everything that would refuse the restore is checked before anything is written.
    roots = _local_roots()
    for name, part in manifest.data["files"].items():
        if "file" not in part:
            continue
        root = roots.get(name)
        if root is None:
            raise BackupError(
                f"The backup holds {name} files but their storage here is not local: restore "
                "with the storage settings the backup was made with."
            )
        if next(_files_under(root), None) is not None:
            raise BackupError(f"The {name} folder {root} is not empty: restore into a new one.")
    _restore_database(source, manifest)
    files = _restore_files(source, manifest)
    with connection.cursor() as cursor:
        counts = _counts(cursor, sorted(manifest.data["tables"]))
    differ = {
        table: (expected, counts.get(table))
        for table, expected in manifest.data["tables"].items()
        if counts.get(table) != expected
    }
    if differ:
        raise BackupError(f"Row counts differ from the manifest's (expected, found): {differ}")
    broken, reason, checked = audit_chain_first_break()
    if broken is not None or reason:
        raise BackupError(f"The restored audit chain does not verify: {reason}")
    # Copies of public reads kept in a shared cache describe the rows before the restore.
    readcache.changed(*readcache.NAMESPACES)
    return Restored(manifest=manifest, audit_entries=checked, files=files)
