"""Documents on S3 for real: moto's S3 server on this machine, django-storages' S3Storage and
boto3 talking HTTP to it. Uploads land in the bucket, downloads are presigned URLs fetched
over HTTP, restore copies objects, verify finds damaged and missing ones, the trash deletes
objects after the commit."""

import hashlib
from datetime import timedelta
from io import StringIO
from urllib.parse import quote, urlsplit

import httpx
import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.business.documents import services
from apps.business.documents.models import Document, DocumentAccess, DocumentVersion
from tests.helpers import client_for

from .conftest import DOCUMENTS, bucket_keys
from .samples import pdf_bytes, upload

pytestmark = pytest.mark.django_db


def upload_document(client, folder, data, name="Análisis CITES.pdf"):
    response = client.post(
        DOCUMENTS,
        {"title": "Permiso", "folder": folder.pk, "file": upload(data, name, "text/plain")},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def fetch(location: str) -> httpx.Response:
    return httpx.get(location, timeout=10)


def test_upload_goes_to_the_bucket_and_download_is_a_presigned_url(s3, curator, folders, settings):
    client, bucket = s3
    settings.DOCUMENTS_PRESIGNED_URL_SECONDS = 30
    data = pdf_bytes("Permiso CITES en S3")
    document = upload_document(client_for(curator), folders["permits"], data)
    version = DocumentVersion.objects.get()
    key = f"documents/{version.file.name}"
    assert bucket_keys(client, bucket) == [key]
    stored = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == document["current_version"]["sha256"]

    response = client_for(curator).get(f"{DOCUMENTS}{document['id']}/download/")
    assert response.status_code == 302
    location = response["Location"]
    assert urlsplit(location).path == f"/{bucket}/{key}"
    assert "X-Amz-Expires=30" in location
    assert response["X-Content-Type-Options"] == "nosniff"
    assert DocumentAccess.objects.count() == 1  # logged before the answer

    downloaded = fetch(location)
    assert downloaded.status_code == 200
    assert downloaded.content == data
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.headers["content-disposition"] == (
        f"attachment; filename*=utf-8''{quote('Análisis CITES.pdf')}"
    )


def test_a_share_link_on_s3_redirects_to_the_bucket(s3, curator, folders):
    data = pdf_bytes("Certificado")
    document = upload_document(client_for(curator), folders["permits"], data, "cert.pdf")
    token = (
        client_for(curator)
        .post(
            f"{DOCUMENTS}{document['id']}/share-links/",
            {"expires_in_hours": 1, "max_downloads": 1},
            format="json",
        )
        .json()["token"]
    )
    response = client_for(None).get(f"/api/v1/documents/shared/{token}/")
    assert response.status_code == 302
    assert fetch(response["Location"]).content == data
    assert client_for(None).get(f"/api/v1/documents/shared/{token}/").status_code == 404


def test_version_restore_copies_the_object(s3, curator, folders):
    client, bucket = s3
    first, second = pdf_bytes("Primera"), pdf_bytes("Segunda")
    api = client_for(curator)
    document = upload_document(api, folders["permits"], first, "v1.pdf")
    api.post(
        f"{DOCUMENTS}{document['id']}/versions/",
        {"file": upload(second, "v2.pdf")},
        format="multipart",
    )
    restored = api.post(f"{DOCUMENTS}{document['id']}/versions/1/restore/", {}, format="json")
    assert restored.status_code == 201, restored.json()
    assert restored.json()["number"] == 3
    assert len(bucket_keys(client, bucket)) == 3
    current = api.get(f"{DOCUMENTS}{document['id']}/download/")
    assert fetch(current["Location"]).content == first
    old = api.get(f"{DOCUMENTS}{document['id']}/versions/2/download/")
    assert fetch(old["Location"]).content == second


def test_verify_reads_the_bucket_and_finds_damaged_and_missing_objects(s3, curator, folders):
    client, bucket = s3
    api = client_for(curator)
    for number in range(3):
        upload_document(api, folders["permits"], pdf_bytes(f"Documento {number}"))
    out, err = StringIO(), StringIO()
    call_command("documents_verify", stdout=out, stderr=err)
    assert out.getvalue() == "3 versions checked, 0 missing or damaged.\n"

    damaged, missing, _good = DocumentVersion.objects.order_by("pk")
    client.put_object(Bucket=bucket, Key=f"documents/{damaged.file.name}", Body=b"%PDF-1.4 altered")
    client.delete_object(Bucket=bucket, Key=f"documents/{missing.file.name}")
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("documents_verify", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert out.getvalue() == "3 versions checked, 2 missing or damaged.\n"
    lines = err.getvalue().splitlines()
    assert lines[0].startswith(f"DAMAGED  document {damaged.document_id} ")
    assert hashlib.sha256(b"%PDF-1.4 altered").hexdigest() in lines[0]
    assert lines[1].startswith(f"MISSING  document {missing.document_id} ")


def test_emptying_the_trash_deletes_the_objects_after_the_commit(
    s3, curator, folders, django_capture_on_commit_callbacks
):
    client, bucket = s3
    document = upload_document(client_for(curator), folders["permits"], pdf_bytes("Viejo"))
    row = Document.objects.get(pk=document["id"])
    services.document_trash(actor=curator, document=row)
    Document.objects.filter(pk=row.pk).update(deleted_at=timezone.now() - timedelta(days=400))
    with django_capture_on_commit_callbacks(execute=True):
        run = services.trash_empty()
        assert len(bucket_keys(client, bucket)) == 1  # not before the commit
    assert run.purged == 1
    assert bucket_keys(client, bucket) == []


def test_a_refused_upload_puts_nothing_in_the_bucket(s3, curator, folders):
    client, bucket = s3
    response = client_for(curator).post(
        DOCUMENTS,
        {"title": "X", "folder": folders["permits"].pk, "file": upload(b"MZ\x90evil", "a.pdf")},
        format="multipart",
    )
    assert response.status_code == 400
    assert bucket_keys(client, bucket) == []


def test_verify_lists_objects_no_version_names_in_the_bucket_and_deletes_old_ones(
    s3, curator, folders
):
    client, bucket = s3
    upload_document(client_for(curator), folders["permits"], pdf_bytes("Permiso"))
    version = DocumentVersion.objects.get()
    # Objects of uploads interrupted before their rows committed, in nested prefixes.
    client.put_object(Bucket=bucket, Key="documents/2026/11/abandoned", Body=b"%PDF-1.4 a")
    client.put_object(Bucket=bucket, Key="documents/2025/01/older", Body=b"%PDF-1.4 b")
    client.put_object(Bucket=bucket, Key="elsewhere/not-ours", Body=b"media")
    out, err = StringIO(), StringIO()
    call_command("documents_verify", stdout=out, stderr=err)
    assert out.getvalue() == (
        "1 versions checked, 0 missing or damaged.\n2 stored files no version names.\n"
    )
    assert sorted(line.split()[1] for line in err.getvalue().splitlines()) == [
        "2025/01/older",
        "2026/11/abandoned",
    ]
    # Just stored: within any grace. Two hours on, both go; the version's object and what is
    # outside the documents' prefix stay.
    orphans = services.orphans_find()
    assert services.orphans_delete(orphans, older_than=timedelta(hours=1)) == 0
    later = timezone.now() + timedelta(hours=2)
    assert services.orphans_delete(orphans, older_than=timedelta(hours=1), now=later) == 2
    assert bucket_keys(client, bucket) == [f"documents/{version.file.name}", "elsewhere/not-ours"]
    assert services.orphans_find() == []
