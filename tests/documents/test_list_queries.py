"""Every documents list issues the same number of queries for a page of 1 and of 50."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.business.documents import services
from apps.business.documents.models import Document
from tests.factories import AnimalFactory
from tests.helpers import client_for

from .conftest import DOCUMENTS, make_folder

pytestmark = pytest.mark.django_db


def tiny_pdf(number: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"d{number}.pdf", f"%PDF-1.4\n% {number}\n%%EOF\n".encode())


def fill_documents(administrator, count, *, trash=False):
    folders = [make_folder(f"F{n}") for n in range(3)]
    animal = AnimalFactory()
    documents = []
    for number in range(count):
        document = services.document_create(
            actor=administrator,
            folder=folders[number % 3],
            title=f"Documento {number}",
            file=tiny_pdf(number),
            data={"tags": [f"t{number}", "común"], "animals": [animal]},
        )
        if trash:
            services.document_trash(actor=administrator, document=document)
        documents.append(document)
    return documents


def one_document_with(administrator, count, kind):
    document = fill_documents(administrator, 1)[0]
    for number in range(count):
        if kind == "versions":
            services.version_add(actor=administrator, document=document, file=tiny_pdf(number))
        elif kind == "access-log":
            services.document_download(actor=administrator, document=document)
        else:
            services.share_link_create(actor=administrator, document=document, expires_in_hours=1)
    return document


def counts_for(client, url) -> list[int]:
    counts = []
    for size in (1, 50):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(size, response.json()["count"])
        counts.append(len(queries))
    return counts


@pytest.mark.parametrize("trash", [False, True])
def test_documents_and_the_trash(administrator, trash):
    fill_documents(administrator, 55, trash=trash)
    url = f"{DOCUMENTS}trash/" if trash else DOCUMENTS
    counts = counts_for(client_for(administrator), url)
    assert counts[0] == counts[1], counts


def test_folders(administrator):
    for number in range(55):
        make_folder(f"Carpeta {number}", roles=["curator", "veterinarian"])
    counts = counts_for(client_for(administrator), "/api/v1/documents/folders/")
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("kind", ["versions", "access-log", "share-links"])
def test_versions_access_log_and_share_links(administrator, kind):
    document = one_document_with(administrator, 55, kind)
    assert Document.objects.count() == 1
    counts = counts_for(client_for(administrator), f"{DOCUMENTS}{document.pk}/{kind}/")
    assert counts[0] == counts[1], counts
