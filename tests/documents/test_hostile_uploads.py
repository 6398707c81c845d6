"""Hostile uploads and downloads, as an outside reviewer tried them: bodies the upload routes'
larger limit lets through, HTML passed off as CSV, crafted office containers, forms with too
many parts, a share link to an object gone from S3. Each is a clear 4xx (or a safe download),
never a 500, and nothing is stored or used up."""

import io
import struct
import zipfile

import pytest

from apps.business.documents import files
from apps.business.documents.models import Document, DocumentAccess, DocumentVersion, ShareLink
from tests.helpers import client_for

from .conftest import DOCUMENTS
from .samples import pdf_bytes, upload

pytestmark = pytest.mark.django_db
SHARED = "/api/v1/documents/shared/"


def create(client, folder, file=None, **fields):
    body = {"title": "Informe", "folder": folder.pk, "file": file or upload(pdf_bytes("x"))}
    body.update(fields)
    return client.post(DOCUMENTS, body, format="multipart")


# --- A form part over DATA_UPLOAD_MAX_MEMORY_SIZE inside the upload routes' allowance ------


def _small_limits(settings):
    # As config/settings/base.py: DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES.
    settings.API_MAX_BODY_BYTES = 2_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    settings.DOCUMENTS_MAX_UPLOAD_BYTES = 20_000


def _multipart(parts: list[tuple[str, bytes, str | None]]) -> bytes:
    body = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--B\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return body + b"--B--\r\n"


@pytest.mark.parametrize("route", ["document", "version"])
@pytest.mark.parametrize("how", ["file_part_without_filename", "long_text_field"])
def test_a_form_part_over_the_memory_limit_in_an_upload_is_413(
    curator, folders, settings, document_files, route, how
):
    """The upload routes take bodies over API_MAX_BODY_BYTES, which is also
    DATA_UPLOAD_MAX_MEMORY_SIZE: a non-file part over it (a file part sent without
    filename=, as ``curl -F 'file=<x.pdf'`` does, or a long note) makes Django raise
    RequestDataTooBig as the form is read: 413 payload_too_large, nothing stored."""
    _small_limits(settings)
    client = client_for(curator)
    document = create(client, folders["permits"]).json()
    url = DOCUMENTS if route == "document" else f"{DOCUMENTS}{document['id']}/versions/"
    payload = pdf_bytes("x") + b"%" + b"x" * 5_000  # within the 20 kB file limit
    parts = (
        [("title", b"T", None), ("folder", str(folders["permits"].pk).encode(), None)]
        if route == "document"
        else []
    )
    if how == "file_part_without_filename":
        parts.append(("file", payload, None))
    else:
        parts.append(("file", pdf_bytes("x"), "a.pdf"))
        parts.append(("note", b"n" * 5_000, None))
    response = client.generic(
        "POST", url, _multipart(parts), content_type="multipart/form-data; boundary=B"
    )
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
    assert Document.objects.count() == 1
    assert DocumentVersion.objects.count() == 1


# --- HTML passed off as CSV -------------------------------------------------------------------

_PADDING = b"especie,individuos\n" + b"tortuga,3\n" * 7_000  # > CSV_SAMPLE (64 KiB)
HTML_AS_CSV = {
    "script_after_64KiB": _PADDING + b"<script>alert(document.domain)</script>,x\n",
    "image_tag": b"a,b\n<image src=x onerror=alert(1)>,x\n",  # the parser makes it <img>
    "video_onerror": b"a,b\n<video src=x onerror=alert(1)>,x\n",
    "audio_onerror": b"a,b\n<audio src=x onerror=alert(1)>,x\n",
    "details_ontoggle": b"a,b\n<details open ontoggle=alert(1)>,x\n",
    "input_autofocus": b"a,b\n<input autofocus onfocus=alert(1)>,x\n",
    "textarea_autofocus": b"a,b\n<textarea autofocus onfocus=alert(1)>,x\n",
}


@pytest.mark.parametrize("name", sorted(HTML_AS_CSV))
def test_html_that_runs_scripts_is_refused_as_csv(curator, folders, name):
    """Each body splits into 2 columns on every line, and each runs a script when opened in
    a browser (an HTML page needs no leading tag; a tag past the first 64 KiB counts): it is
    refused, whatever tag it uses. (Were one missed, its download would still be named
    "informe.html.csv": test_files.)"""
    client = client_for(curator)
    response = create(client, folders["permits"], upload(HTML_AS_CSV[name], "informe.html"))
    assert (response.status_code, response.json()["code"]) == (400, "file_type_not_allowed")
    assert Document.objects.count() == 0


# --- And real CSV with < in its cells -----------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"<0,02;1,5\n0,03;1,4\n",  # a headerless lab export: "<0,02" is a cell
        b"muestra,valor\nb<a,1\n",  # "<a" followed by a comma: matches <a\b
    ],
)
def test_csv_cells_with_less_than_are_still_csv(data):
    """A `<` before a digit, a space or a comma is an ordinary cell (docs/adr/0035), also as
    the file's very first character.
    Expected: text/csv."""
    assert files.sniff(upload(data, "agua.csv", "text/csv")) == files.Sniffed("text/csv", "csv")


# --- Crafted OpenDocument containers ---------------------------------------------------------


def _odt(*, method: int | None = None, flags: int | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "mimetype",
            b"application/vnd.oasis.opendocument.text",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", b"<office/>")
    data = bytearray(buffer.getvalue())
    central = data.find(b"PK\x01\x02")
    if method is not None:  # the mimetype entry's compression method, both headers
        struct.pack_into("<H", data, 8, method)
        struct.pack_into("<H", data, central + 10, method)
    if flags is not None:  # its general purpose flags (bit 0: encrypted)
        struct.pack_into("<H", data, 6, flags)
        struct.pack_into("<H", data, central + 8, flags)
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_odt(flags=1), id="encrypted_mimetype_RuntimeError"),
        pytest.param(_odt(method=99), id="unknown_method_NotImplementedError"),
        pytest.param(_odt(method=8), id="bad_deflate_zlib_error"),
    ],
)
def test_a_crafted_opendocument_is_refused_with_400(curator, folders, document_files, data):
    """Reading the `mimetype` part of a crafted container raises RuntimeError (an encrypted
    entry), NotImplementedError (an unknown compression method) or zlib.error (damaged
    deflate data): the file is no office document, 400 and nothing stored."""
    response = create(client_for(curator), folders["permits"], upload(data, "acta.odt"))
    assert (response.status_code, response.json()["code"]) == (400, "file_type_not_allowed")
    assert Document.objects.count() == 0


# --- Forms with too many parts ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["fields", "files"])
def test_too_many_multipart_fields_or_files_is_413(curator, folders, kind):
    """More than DATA_UPLOAD_MAX_NUMBER_FIELDS (1000) parts, or more than
    DATA_UPLOAD_MAX_NUMBER_FILES (100) files, in an upload: Django raises TooManyFieldsSent /
    TooManyFilesSent as it reads the form: 413 payload_too_large, nothing stored."""
    body = {"title": "t", "folder": folders["permits"].pk}
    if kind == "fields":
        body["file"] = upload(pdf_bytes("x"))
        body.update({f"extra{i}": "x" for i in range(1_100)})
    else:
        body["file"] = [upload(pdf_bytes("x"), f"{i}.pdf") for i in range(110)]
    response = client_for(curator).post(DOCUMENTS, body, format="multipart")
    assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
    assert Document.objects.count() == 0


# --- S3: a share link to an object gone from the bucket --------------------------------------


def test_on_s3_a_share_link_whose_object_is_missing_uses_nothing_up(s3, curator, folders):
    """On S3 as locally, a share link's use is counted once its file is found: the bucket is
    asked before the redirect, and an object gone is 409 file_missing (HEAD too) with the
    link's download kept."""
    client, bucket = s3
    curator_client = client_for(curator)
    document = create(curator_client, folders["permits"]).json()
    token = curator_client.post(
        f"{DOCUMENTS}{document['id']}/share-links/",
        {"expires_in_hours": 2, "max_downloads": 1},
        format="json",
    ).json()["token"]
    version = DocumentVersion.objects.get()
    client.delete_object(Bucket=bucket, Key=f"documents/{version.file.name}")
    response = client_for(None).get(f"{SHARED}{token}/")
    assert (response.status_code, ShareLink.objects.get().download_count) == (409, 0)
    assert response.json()["code"] == "file_missing"
    assert client_for(None).head(f"{SHARED}{token}/").status_code == 409
    assert DocumentAccess.objects.count() == 0
