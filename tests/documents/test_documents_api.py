"""Documents through the API: upload, versions, downloads (logged), restore, trash, search,
and folder visibility per role."""

import hashlib
from urllib.parse import quote

import pytest
from django.db import connection

from apps.business.documents.models import Document, DocumentAccess, DocumentVersion
from apps.support.audit.models import AuditEvent
from apps.support.security.roles import Role
from tests.factories import UserFactory
from tests.helpers import client_for, staff_member

from .conftest import DOCUMENTS, stored_files
from .samples import CSV_BYTES, ooxml_bytes, pdf, pdf_bytes, png_bytes, upload

pytestmark = pytest.mark.django_db


def create(client, folder, file=None, **fields):
    body = {"title": "Permiso CITES tortuga lora", "folder": folder.pk, "file": file or pdf()}
    body.update(fields)
    return client.post(DOCUMENTS, body, format="multipart")


def actions(target_id) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type="documents.document", target_id=str(target_id))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def test_upload_creates_the_document_and_its_first_version(
    curator, folders, document_files, django_capture_on_commit_callbacks
):
    data = pdf_bytes("Permiso CITES", "Lepidochelys olivacea")
    with django_capture_on_commit_callbacks(execute=True):
        response = create(
            client_for(curator),
            folders["permits"],
            upload(data, "Permiso CITES.pdf", "application/octet-stream"),
            note="Original",
            description="Exportación",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    version = body["current_version"]
    assert body["title"] == "Permiso CITES tortuga lora"
    assert body["description"] == "Exportación"
    assert body["version_count"] == 1
    assert {key: version[key] for key in ("number", "filename", "sha256", "size")} == {
        "number": 1,
        "filename": "Permiso CITES.pdf",
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    assert version["content_type"] == "application/pdf"  # sniffed, not the header's
    assert version["uploaded_by"] == {"id": curator.pk, "email": curator.email}
    assert version["note"] == "Original"
    stored = DocumentVersion.objects.get()
    name = str(stored.file.name)
    assert name.count("/") == 2
    assert "Permiso" not in name
    assert len(stored_files(document_files)) == 1
    assert actions(body["id"]) == ["documents.document.created"]
    # The PDF's text was read (the task runs eagerly on commit) and is searchable.
    assert "lepidochelys olivacea" in DocumentVersion.objects.get().text


def test_a_refused_file_is_a_clear_400_and_nothing_is_stored(curator, folders, document_files):
    client = client_for(curator)
    response = create(
        client, folders["permits"], upload(b"MZ\x90\x00evil", "permiso.pdf", "application/pdf")
    )
    assert response.status_code == 400
    assert response.json()["code"] == "file_type_not_allowed"
    assert response.json()["errors"][0]["field"] == "file"
    assert Document.objects.count() == 0
    assert stored_files(document_files) == []
    assert not AuditEvent.objects.filter(action__startswith="documents.document").exists()


def test_a_file_over_the_limit_is_refused(curator, folders, settings, document_files):
    settings.DOCUMENTS_MAX_UPLOAD_BYTES = 1000
    response = create(client_for(curator), folders["permits"], upload(b"%PDF-" + b"0" * 2000))
    assert (response.status_code, response.json()["code"]) == (400, "file_too_large")
    assert stored_files(document_files) == []


def test_a_failed_transaction_deletes_the_stored_file(
    curator, folders, monkeypatch, document_files
):
    from apps.business.documents import services

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services.documents.audit, "record", broken)
    with pytest.raises(RuntimeError):
        services.document_create(
            actor=curator, folder=folders["permits"], title="X", file=pdf(), data={}
        )
    assert stored_files(document_files) == []
    assert Document.objects.count() == 0


def test_office_documents_images_and_csv_are_accepted(curator, folders):
    client = client_for(curator)
    kinds = {
        "acta.docx": (
            ooxml_bytes("word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        "datos.csv": (CSV_BYTES, "text/csv"),
        "foto.png": (png_bytes(), "image/png"),
    }
    for name, (data, content_type) in kinds.items():
        response = create(client, folders["permits"], upload(data, name, "text/plain"))
        assert response.status_code == 201, response.json()
        assert response.json()["current_version"]["content_type"] == content_type
        assert response.json()["current_version"]["filename"] == name


def test_versions_are_numbered_and_listed_newest_first(curator, folders):
    client = client_for(curator)
    document = create(client, folders["permits"]).json()
    second = client.post(
        f"{DOCUMENTS}{document['id']}/versions/",
        {"file": pdf("v2.pdf", "Second"), "note": "Renewed"},
        format="multipart",
    )
    assert second.status_code == 201, second.json()
    assert (second.json()["number"], second.json()["note"]) == (2, "Renewed")
    listed = client.get(f"{DOCUMENTS}{document['id']}/versions/").json()
    assert [row["number"] for row in listed["results"]] == [2, 1]
    detail = client.get(f"{DOCUMENTS}{document['id']}/").json()
    assert (detail["current_version"]["number"], detail["version_count"]) == (2, 2)
    assert actions(document["id"]) == [
        "documents.document.created",
        "documents.version.added",
    ]


def test_download_streams_the_file_with_its_headers_and_logs_the_access(curator, folders):
    client = client_for(curator)
    data = pdf_bytes("Análisis")
    document = create(
        client, folders["permits"], upload(data, "Análisis de agua.pdf", "text/plain")
    ).json()
    response = client.get(
        f"{DOCUMENTS}{document['id']}/download/",
        HTTP_USER_AGENT="Lab client/1.0",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(data))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        f"attachment; filename*=utf-8''{quote('Análisis de agua.pdf')}"
    )
    access = DocumentAccess.objects.get()
    assert (access.user, access.version.number, access.channel) == (curator, 1, "api")
    assert (access.ip_address, access.user_agent) == ("10.1.2.3", "Lab client/1.0")
    assert actions(document["id"])[-1] == "documents.document.downloaded"
    log = client.get(f"{DOCUMENTS}{document['id']}/access-log/").json()["results"]
    assert [(row["version"], row["channel"], row["user"]["email"]) for row in log] == [
        (1, "api", curator.email)
    ]


def test_an_old_version_downloads_and_restores_as_a_new_one(curator, folders):
    client = client_for(curator)
    first = pdf_bytes("First")
    document = create(client, folders["permits"], upload(first, "v1.pdf")).json()
    client.post(
        f"{DOCUMENTS}{document['id']}/versions/", {"file": pdf("v2.pdf")}, format="multipart"
    )
    old = client.get(f"{DOCUMENTS}{document['id']}/versions/1/download/")
    assert b"".join(old.streaming_content) == first
    restored = client.post(
        f"{DOCUMENTS}{document['id']}/versions/1/restore/",
        {},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert restored.status_code == 201, restored.json()
    body = restored.json()
    assert (body["number"], body["restored_from"], body["filename"]) == (3, 1, "v1.pdf")
    assert body["sha256"] == hashlib.sha256(first).hexdigest()
    assert body["note"] == "Restored from version 1."
    current = client.get(f"{DOCUMENTS}{document['id']}/download/")
    assert b"".join(current.streaming_content) == first
    versions = DocumentVersion.objects.filter(document_id=document["id"])
    assert versions.get(number=3).file.name != versions.get(number=1).file.name
    assert "documents.version.restored" in actions(document["id"])
    missing = client.post(f"{DOCUMENTS}{document['id']}/versions/9/restore/", {}, format="json")
    assert missing.status_code == 404


def test_trash_and_restore(curator, folders):
    client = client_for(curator)
    document = create(client, folders["permits"]).json()
    url = f"{DOCUMENTS}{document['id']}/"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get(f"{url}download/").status_code == 404
    assert client.get(DOCUMENTS).json()["count"] == 0
    trash = client.get(f"{DOCUMENTS}trash/").json()
    assert [row["id"] for row in trash["results"]] == [document["id"]]
    assert trash["results"][0]["deleted_at"] is not None
    restored = client.post(f"{url}restore/")
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    again = client.post(f"{url}restore/")
    assert (again.status_code, again.json()["code"]) == (409, "document_not_in_trash")
    assert actions(document["id"])[-2:] == [
        "documents.document.trashed",
        "documents.document.restored",
    ]


def test_metadata_and_links_are_changed_with_patch(curator, folders):
    from tests.factories import HabitatFactory, SpeciesFactory

    client = client_for(curator)
    species = SpeciesFactory()
    habitat = HabitatFactory()
    document = create(client, folders["permits"]).json()
    response = client.patch(
        f"{DOCUMENTS}{document['id']}/",
        {
            "title": "Permiso renovado",
            "tags": ["Exportación"],
            "species": [species.pk],
            "habitats": [habitat.pk],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["tags"], body["species"], body["habitats"]) == (
        "Permiso renovado",
        ["exportación"],
        [species.pk],
        [habitat.pk],
    )
    filtered = client.get(DOCUMENTS, {"species": species.pk}).json()
    assert [row["id"] for row in filtered["results"]] == [document["id"]]
    assert client.get(DOCUMENTS, {"tag": "exportación"}).json()["count"] == 1
    assert actions(document["id"])[-1] == "documents.document.updated"


def test_tags_and_links_travel_in_the_upload_form(curator, folders, document_files):
    from tests.factories import AnimalFactory, HabitatFactory

    client = client_for(curator)
    animal = AnimalFactory()
    habitats = sorted([HabitatFactory().pk, HabitatFactory().pk])
    response = create(
        client,
        folders["permits"],
        tags=["CITES", "  Exportación  2026 ", "cites"],
        animals=[animal.pk],
        habitats=habitats,
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["tags"], body["animals"], body["habitats"], body["species"]) == (
        ["cites", "exportación 2026"],
        [animal.pk],
        habitats,
        [],
    )
    created = AuditEvent.objects.get(action="documents.document.created")
    assert (created.metadata["tags"], created.metadata["animals"]) == (
        ["cites", "exportación 2026"],
        [animal.pk],
    )
    assert client.get(DOCUMENTS, {"animal": animal.pk}).json()["count"] == 1
    assert client.get(DOCUMENTS, {"search": "exportacion"}).json()["count"] == 1

    # A record that does not exist: 400 on that field, nothing stored, nothing written.
    refused = create(client, folders["permits"], animals=[animal.pk, 999_999], tags=["x"])
    assert refused.status_code == 400
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("animals", "does_not_exist")
    ]
    assert Document.objects.count() == 1
    assert len(stored_files(document_files)) == 1
    assert AuditEvent.objects.filter(action="documents.document.created").count() == 1


def test_search_finds_title_tags_filename_and_the_text_inside_pdfs(
    curator, folders, django_capture_on_commit_callbacks
):
    client = client_for(curator)
    with django_capture_on_commit_callbacks(execute=True):
        create(
            client,
            folders["permits"],
            pdf("certificado.pdf", "Certificado de calidad del agua", "Nitratos en rango"),
            title="Laboratorio enero",
        )
        other = create(client, folders["permits"], pdf("otro.pdf", "Nada"), title="Contrato")
    tagged = client.patch(f"{DOCUMENTS}{other.json()['id']}/", {"tags": ["Tiburón"]}, format="json")
    assert tagged.json()["tags"] == ["tiburón"]

    def titles(term):
        found = client.get(DOCUMENTS, {"search": term}).json()["results"]
        return sorted(row["title"] for row in found)

    assert titles("laboratorio") == ["Laboratorio enero"]
    assert titles("tiburon") == ["Contrato"]  # accent-blind, on a tag
    assert titles("certificado.pdf") == ["Laboratorio enero"]  # the file name
    assert titles("nitratos") == ["Laboratorio enero"]  # inside the PDF
    assert titles("NITRATOS rango") == ["Laboratorio enero"]
    assert titles("ballena") == []


# --- Who sees what ------------------------------------------------------------------------


def visible_titles(user) -> list[str]:
    rows = client_for(user).get(DOCUMENTS).json()["results"]
    return sorted(row["title"] for row in rows)


@pytest.fixture
def shelf(folders):
    """One document in each folder, uploaded by an administrator."""
    administrator = staff_member(Role.ADMINISTRATOR)
    client = client_for(administrator)
    made = {}
    for key, folder in folders.items():
        made[key] = create(client, folder, title=f"doc {key}").json()["id"]
    return made


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        (Role.CURATOR, ["doc permits", "doc public"]),
        (Role.VETERINARIAN, ["doc public", "doc vet"]),
        (Role.FINANCE, ["doc public"]),
        (Role.AUDITOR, ["doc permits", "doc public", "doc vet"]),
        (Role.ADMINISTRATOR, ["doc permits", "doc public", "doc vet"]),
        (None, ["doc public"]),  # a visitor
    ],
)
def test_lists_show_only_the_folders_a_role_sees_and_others_are_404(role, sees, shelf):
    user = staff_member(role) if role else UserFactory()
    assert visible_titles(user) == sees
    client = client_for(user)
    for key, pk in shelf.items():
        expected = 200 if f"doc {key}" in sees else 404
        for suffix in ("", "download/", "versions/", "versions/1/download/"):
            assert client.get(f"{DOCUMENTS}{pk}/{suffix}").status_code == expected, (key, suffix)
    folders = client.get("/api/v1/documents/folders/").json()["results"]
    assert len(folders) == len(sees)


def test_a_hidden_document_is_404_to_an_editor_and_nothing_changes(vet, shelf, document_files):
    client = client_for(vet)
    permit = shelf["permits"]
    before = (stored_files(document_files), AuditEvent.objects.count())
    answers = [
        client.post(f"{DOCUMENTS}{permit}/versions/", {"file": pdf()}, format="multipart"),
        client.patch(f"{DOCUMENTS}{permit}/", {"title": "mine"}, format="json"),
        client.delete(f"{DOCUMENTS}{permit}/"),
        client.post(f"{DOCUMENTS}{permit}/versions/1/restore/", {}, format="json"),
        client.post(f"{DOCUMENTS}{permit}/share-links/", {"expires_in_hours": 2}, format="json"),
        client.get(f"{DOCUMENTS}{permit}/access-log/"),
    ]
    assert [answer.status_code for answer in answers] == [404] * 6
    assert (stored_files(document_files), AuditEvent.objects.count()) == before
    document = Document.objects.get(pk=permit)
    assert (document.title, document.version_count, document.deleted_at) == ("doc permits", 1, None)


def test_uploading_into_a_folder_one_does_not_see_is_refused(vet, folders, document_files):
    response = create(client_for(vet), folders["permits"])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "folder"
    assert stored_files(document_files) == []


def test_visitors_and_auditors_read_but_do_not_write(shelf, document_files):
    users = (UserFactory(), staff_member(Role.AUDITOR))
    before = (stored_files(document_files), AuditEvent.objects.count(), Document.objects.count())
    for user in users:
        client = client_for(user)
        public = shelf["public"]
        assert client.get(f"{DOCUMENTS}{public}/").status_code == 200
        refused = [
            create(client, Document.objects.get(pk=public).folder),
            client.post(f"{DOCUMENTS}{public}/versions/", {"file": pdf()}, format="multipart"),
            client.delete(f"{DOCUMENTS}{public}/"),
        ]
        assert [answer.status_code for answer in refused] == [403, 403, 403]
    assert client_for(None).get(f"{DOCUMENTS}{shelf['public']}/").status_code == 401
    after = (stored_files(document_files), AuditEvent.objects.count(), Document.objects.count())
    assert after == before


def test_a_trashed_document_cannot_get_a_new_version(curator, folders, document_files):
    client = client_for(curator)
    document = create(client, folders["permits"]).json()
    client.delete(f"{DOCUMENTS}{document['id']}/")
    files_before = stored_files(document_files)
    # The trash is not where versions go: the document is not found among those in use.
    response = client.post(
        f"{DOCUMENTS}{document['id']}/versions/", {"file": pdf()}, format="multipart"
    )
    assert response.status_code == 404
    assert stored_files(document_files) == files_before
    assert Document.objects.get().deleted_at is not None


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"title": ""}, "title", "blank"),
        ({"title": "x" * 201}, "title", "max_length"),
        ({"folder": ""}, "folder", "null"),
        ({"folder": "abc"}, "folder", "incorrect_type"),
        ({"note": "n" * 501}, "note", "max_length"),
        ({"colour": "red"}, "colour", "unknown_field"),
    ],
)
def test_a_malformed_upload_form_is_refused_and_stores_nothing(
    curator, folders, document_files, body, field, code
):
    form = {"title": "Permiso", "folder": folders["permits"].pk, "file": pdf(), **body}
    response = client_for(curator).post(DOCUMENTS, form, format="multipart")
    assert response.status_code == 400
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert stored_files(document_files) == []
    assert Document.objects.count() == 0


# --- Sizes, empty files, HEAD, the search index -------------------------------------------


def big_pdf(size: int) -> bytes:
    head = pdf_bytes("Informe de necropsia")
    return head + b"%" + b"x" * (size - len(head) - 1)


def test_a_document_larger_than_the_api_body_limit_within_its_own_limit_is_accepted(
    curator, folders, document_files, settings
):
    """Documents take files up to DOCUMENTS_MAX_UPLOAD_BYTES (25 MiB), more than any other
    request body may weigh (API_MAX_BODY_BYTES, 10 MiB): a 12 MB lab report is uploaded,
    as a document and as a version."""
    assert settings.API_MAX_BODY_BYTES < 12_000_000 < settings.DOCUMENTS_MAX_UPLOAD_BYTES
    client = client_for(curator)
    data = big_pdf(12_000_000)
    response = create(client, folders["permits"], upload(data))
    assert response.status_code == 201, response.json()
    assert response.json()["current_version"]["size"] == 12_000_000
    again = client.post(
        f"{DOCUMENTS}{response.json()['id']}/versions/",
        {"file": upload(data[:-1] + b"y")},
        format="multipart",
    )
    assert again.status_code == 201, again.json()
    assert DocumentVersion.objects.count() == 2
    assert len(stored_files(document_files)) == 2


@pytest.mark.parametrize("route", ["document", "version"])
def test_a_file_over_the_documents_limit_is_400_file_too_large_and_a_huge_body_413(
    curator, folders, document_files, settings, route
):
    settings.API_MAX_BODY_BYTES = 2_000
    settings.DOCUMENTS_MAX_UPLOAD_BYTES = 20_000
    client = client_for(curator)
    document = create(client, folders["permits"], upload(big_pdf(5_000))).json()

    def send(size):
        file = upload(big_pdf(size))
        if route == "document":
            return create(client, folders["permits"], file)
        url = f"{DOCUMENTS}{document['id']}/versions/"
        return client.post(url, {"file": file}, format="multipart")

    assert send(20_000).status_code == 201
    over = send(20_001)
    assert over.status_code == 400
    assert over.json()["code"] == "file_too_large"
    assert over.json()["errors"][0]["field"] == "file"
    huge = send(20_000 + 2 * 1024 * 1024)  # beyond the limit and the form's allowance
    assert huge.status_code == 413
    assert huge.json()["code"] == "payload_too_large"
    assert Document.objects.count() == (2 if route == "document" else 1)
    assert DocumentVersion.objects.count() == 2
    assert len(stored_files(document_files)) == 2


def test_other_routes_keep_the_api_body_limit(curator, folders, settings):
    settings.API_MAX_BODY_BYTES = 2_000
    client = client_for(curator)
    document = create(client, folders["permits"], upload(pdf_bytes("x"))).json()
    response = client.patch(
        f"{DOCUMENTS}{document['id']}/", {"description": "x" * 5_000}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
    # A multipart body to a route that uploads nothing neither.
    restore = client.post(
        f"{DOCUMENTS}{document['id']}/versions/1/restore/",
        {"note": "x" * 5_000},
        format="multipart",
    )
    assert restore.status_code == 413
    assert Document.objects.get().description == ""


@pytest.mark.parametrize("route", ["document", "version"])
def test_an_empty_file_is_400_file_empty_and_stores_nothing(
    curator, folders, document_files, route
):
    client = client_for(curator)
    document = create(client, folders["permits"]).json()
    empty = upload(b"", "vacío.pdf")
    if route == "document":
        response = create(client, folders["permits"], empty)
    else:
        response = client.post(
            f"{DOCUMENTS}{document['id']}/versions/", {"file": empty}, format="multipart"
        )
    assert response.status_code == 400
    assert response.json()["code"] == "file_empty"
    assert response.json()["errors"][0]["field"] == "file"
    assert (Document.objects.count(), DocumentVersion.objects.count()) == (1, 1)
    assert len(stored_files(document_files)) == 1


@pytest.mark.parametrize("path", ["download/", "versions/1/download/"])
def test_head_on_a_download_tells_the_headers_and_logs_nothing(curator, folders, path):
    client = client_for(curator)
    data = pdf_bytes("Análisis")
    document = create(client, folders["permits"], upload(data, "análisis.pdf")).json()
    audited = AuditEvent.objects.count()
    response = client.head(f"{DOCUMENTS}{document['id']}/{path}")
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(data))
    assert response["Content-Disposition"] == (
        f"attachment; filename*=utf-8''{quote('análisis.pdf')}"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert DocumentAccess.objects.count() == 0
    assert AuditEvent.objects.count() == audited
    # A GET is still a download, logged.
    b"".join(client.get(f"{DOCUMENTS}{document['id']}/{path}").streaming_content)
    assert DocumentAccess.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL's full-text search and GIN index: a substring match elsewhere",
)
def test_search_of_the_pdf_text_goes_through_its_gin_index(curator, folders):
    from apps.business.documents import selectors

    client = client_for(curator)
    create(client, folders["permits"])
    found = selectors.document_search(selectors.document_list(user=curator), "nitratos en rango")
    sql, params = found.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny tables: forbid the sequential scan of the versions to see whether the
        # planner can use the index at all (an expression over a join never can).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "document_version_text_fts" in plan, plan
