"""Emptying the trash (files deleted after the rows commit) and the integrity check."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.business.documents import services, tasks
from apps.business.documents.models import Document, DocumentVersion
from apps.support.audit.models import AuditEvent

from .conftest import stored_files
from .samples import pdf

pytestmark = pytest.mark.django_db


def make_document(curator, folder, title="Acta", versions=1):
    document = services.document_create(
        actor=curator, folder=folder, title=title, file=pdf("a.pdf", title), data={}
    )
    for number in range(2, versions + 1):
        services.version_add(
            actor=curator, document=document, file=pdf("a.pdf", f"{title} {number}")
        )
    return document


def test_the_trash_keeps_documents_for_the_set_days_then_deletes_rows_and_files(
    curator, folders, settings, document_files, django_capture_on_commit_callbacks
):
    settings.DOCUMENTS_TRASH_DAYS = 30
    old = make_document(curator, folders["permits"], "Viejo", versions=2)
    recent = make_document(curator, folders["permits"], "Reciente")
    kept = make_document(curator, folders["permits"], "En uso")
    services.document_trash(actor=curator, document=old)
    services.document_trash(actor=curator, document=recent)
    Document.objects.filter(pk=old.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    Document.objects.filter(pk=recent.pk).update(deleted_at=timezone.now() - timedelta(days=29))
    assert len(stored_files(document_files)) == 4

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = tasks.empty_trash()
        # Rows are gone; the files wait for the commit.
        assert not Document.objects.filter(pk=old.pk).exists()
        assert len(stored_files(document_files)) == 4
    for callback in callbacks:
        callback()

    assert result == {"purged": 1, "skipped": 0, "files": 2}
    assert len(stored_files(document_files)) == 2
    assert set(Document.objects.values_list("title", flat=True)) == {"Reciente", "En uso"}
    assert DocumentVersion.objects.filter(document_id=old.pk).count() == 0
    purged = AuditEvent.objects.get(action="documents.document.purged")
    assert (purged.actor_label, purged.target_id, purged.metadata["versions"]) == (
        "system",
        str(old.pk),
        2,
    )
    assert kept.deleted_at is None


def test_the_command_empties_the_trash(curator, folders):
    document = make_document(curator, folders["permits"])
    services.document_trash(actor=curator, document=document)
    Document.objects.filter(pk=document.pk).update(deleted_at=timezone.now() - timedelta(days=99))
    out = StringIO()
    call_command("documents_empty_trash", stdout=out)
    assert out.getvalue().startswith("1 documents deleted for good (1 files), 0 skipped")


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="SKIP LOCKED needs PostgreSQL or MySQL/MariaDB"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_document_in_use_is_skipped_not_waited_for(curator, folders):
    import threading

    from django.db import connections, transaction

    document = make_document(curator, folders["permits"])
    services.document_trash(actor=curator, document=document)
    Document.objects.filter(pk=document.pk).update(deleted_at=timezone.now() - timedelta(days=99))
    locked, release = threading.Event(), threading.Event()

    def hold_the_row():
        with transaction.atomic():
            Document.objects.select_for_update().get(pk=document.pk)
            locked.set()
            release.wait(30)
        connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    locked.wait(30)
    try:
        run = services.trash_empty()
    finally:
        release.set()
        holder.join()
    assert (run.purged, run.skipped) == (0, 1)
    assert services.trash_empty().purged == 1


def test_verify_reports_missing_and_damaged_files_and_exits_non_zero(
    curator, folders, document_files
):
    good = make_document(curator, folders["permits"], "Bueno")
    damaged = make_document(curator, folders["permits"], "Dañado")
    missing = make_document(curator, folders["permits"], "Perdido")
    out, err = StringIO(), StringIO()
    call_command("documents_verify", stdout=out, stderr=err)
    assert out.getvalue() == "3 versions checked, 0 missing or damaged.\n"

    damaged_file = document_files / str(damaged.current_version.file.name)
    damaged_file.write_bytes(damaged_file.read_bytes() + b"tampered")
    (document_files / str(missing.current_version.file.name)).unlink()
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("documents_verify", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert out.getvalue() == "3 versions checked, 2 missing or damaged.\n"
    lines = err.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f'DAMAGED  document {damaged.pk} "Dañado" version 1')
    assert lines[1].startswith(f'MISSING  document {missing.pk} "Perdido" version 1')
    assert good.current_version.sha256 not in err.getvalue()


def test_restoring_a_damaged_version_is_refused_and_stores_nothing(
    curator, folders, document_files
):
    document = make_document(curator, folders["permits"], versions=2)
    first = document.versions.get(number=1)
    path = document_files / str(first.file.name)
    path.write_bytes(b"%PDF-changed")
    files_before = stored_files(document_files)
    from apps.support.common.errors import ConflictError

    with pytest.raises(ConflictError) as refused:
        services.version_restore(actor=curator, document=document, version=first)
    assert refused.value.code == "file_damaged"
    assert stored_files(document_files) == files_before
    path.unlink()
    with pytest.raises(ConflictError) as gone:
        services.version_restore(actor=curator, document=document, version=first)
    assert gone.value.code == "file_missing"


def test_text_extraction_is_idempotent(curator, folders):
    document = make_document(curator, folders["permits"])
    version = document.current_version
    assert services.version_text_extract(version_id=version.pk) is True
    assert services.version_text_extract(version_id=version.pk) is False
    version.refresh_from_db()
    assert version.text == "acta"


def age(path, hours):
    import os
    import time

    when = time.time() - hours * 3600
    os.utime(path, (when, when))


def test_verify_lists_the_files_no_version_names_and_deletes_only_the_old_ones(
    curator, folders, document_files
):
    from django.core.files.base import ContentFile

    from apps.business.documents.services.storage import store_file

    kept = make_document(curator, folders["permits"], "Permiso", versions=2)
    # An upload interrupted between storing its file and committing its row, two days ago,
    # and one in progress right now (its row not committed yet).
    crashed = store_file(ContentFile(b"%PDF-1.4 interrupted"))
    age(document_files / crashed, 48)
    in_progress = store_file(ContentFile(b"%PDF-1.4 uploading"))
    out, err = StringIO(), StringIO()
    call_command("documents_verify", stdout=out, stderr=err)  # orphans alone: exit 0
    assert out.getvalue() == (
        "2 versions checked, 0 missing or damaged.\n2 stored files no version names.\n"
    )
    lines = err.getvalue().splitlines()
    assert [line.split()[:2] for line in lines] == [["ORPHAN", crashed], ["ORPHAN", in_progress]]
    assert len(stored_files(document_files)) == 4

    out, err = StringIO(), StringIO()
    call_command("documents_verify", "--delete-orphans", stdout=out, stderr=err)
    assert out.getvalue() == (
        "2 versions checked, 0 missing or damaged.\n"
        "2 stored files no version names, 1 stored over 24 h ago deleted.\n"
    )
    assert not (document_files / crashed).exists()
    assert (document_files / in_progress).exists()
    assert sorted(stored_files(document_files)) == sorted(
        [in_progress, *kept.versions.values_list("file", flat=True)]
    )
    entry = AuditEvent.objects.get(action="documents.orphans.deleted")
    assert (entry.actor_label, entry.metadata) == ("system", {"files": 1, "older_than_hours": 24.0})

    # With a shorter grace the one left goes once it is older; nothing a version names ever
    # does.
    out = StringIO()
    call_command(
        "documents_verify", "--delete-orphans", "--orphan-hours=1", stdout=out, stderr=StringIO()
    )
    assert out.getvalue().endswith(
        "1 stored files no version names, 0 stored over 1 h ago deleted.\n"
    )
    assert (document_files / in_progress).exists()
    age(document_files / in_progress, 2)
    out = StringIO()
    call_command(
        "documents_verify", "--delete-orphans", "--orphan-hours=1", stdout=out, stderr=StringIO()
    )
    assert out.getvalue().endswith(
        "1 stored files no version names, 1 stored over 1 h ago deleted.\n"
    )
    assert sorted(stored_files(document_files)) == sorted(
        kept.versions.values_list("file", flat=True)
    )
    out = StringIO()
    call_command("documents_verify", "--delete-orphans", stdout=out, stderr=StringIO())
    assert out.getvalue() == "2 versions checked, 0 missing or damaged.\n"


def test_a_file_a_failed_deletion_left_is_found_as_an_orphan(
    curator, folders, document_files, monkeypatch
):
    from django.core.files.storage import FileSystemStorage

    document = make_document(curator, folders["permits"])
    name = str(document.current_version.file.name)
    services.document_trash(actor=curator, document=document)
    Document.objects.filter(pk=document.pk).update(deleted_at=timezone.now() - timedelta(days=99))

    def refuse(self, name):
        raise PermissionError("read-only store")

    monkeypatch.setattr(FileSystemStorage, "delete", refuse)
    tasks.empty_trash()
    monkeypatch.undo()
    assert stored_files(document_files) == [name]
    assert [orphan.name for orphan in services.orphans_find()] == [name]
    assert (
        services.orphans_delete(
            services.orphans_find(), older_than=timedelta(hours=1), now=timezone.now()
        )
        == 0
    )
    assert (
        services.orphans_delete(
            services.orphans_find(),
            older_than=timedelta(hours=1),
            now=timezone.now() + timedelta(hours=2),
        )
        == 1
    )
    assert stored_files(document_files) == []


def test_verify_refuses_a_grace_under_an_hour(document_files):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--orphan-hours must be 1 or more"):
        call_command("documents_verify", "--delete-orphans", "--orphan-hours=0")
