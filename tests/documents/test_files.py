"""What a file is, from its bytes: accepted kinds, refused ones whatever their name says, and
clean names."""

import io
import os
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.business.documents import files
from apps.support.common.errors import ServiceError

from .samples import CSV_BYTES, ooxml_bytes, opendocument_bytes, pdf_bytes, png_bytes


def sniffed(data: bytes, name: str = "x.bin", content_type: str = "application/octet-stream"):
    return files.sniff(SimpleUploadedFile(name, data, content_type=content_type))


def test_pdf_images_office_and_csv_are_recognised_by_their_bytes():
    jpeg = io.BytesIO()
    Image.new("RGB", (2, 2)).save(jpeg, format="JPEG")
    webp = io.BytesIO()
    Image.new("RGB", (2, 2)).save(webp, format="WEBP")
    cases = {
        pdf_bytes(): ("application/pdf", "pdf"),
        png_bytes(): ("image/png", "png"),
        jpeg.getvalue(): ("image/jpeg", "jpg"),
        webp.getvalue(): ("image/webp", "webp"),
        ooxml_bytes("word/document.xml"): (files.OOXML["word/document.xml"][0], "docx"),
        ooxml_bytes("xl/workbook.xml"): (files.OOXML["xl/workbook.xml"][0], "xlsx"),
        ooxml_bytes("ppt/presentation.xml"): (files.OOXML["ppt/presentation.xml"][0], "pptx"),
        opendocument_bytes("application/vnd.oasis.opendocument.text"): (
            "application/vnd.oasis.opendocument.text",
            "odt",
        ),
        opendocument_bytes("application/vnd.oasis.opendocument.spreadsheet"): (
            "application/vnd.oasis.opendocument.spreadsheet",
            "ods",
        ),
        CSV_BYTES: ("text/csv", "csv"),
        b"\xef\xbb\xbfa,b\n1,2\n": ("text/csv", "csv"),
        b"a\tb\tc\n1\t2\t3\n": ("text/csv", "csv"),
    }
    for data, (content_type, extension) in cases.items():
        assert sniffed(data) == files.Sniffed(content_type, extension)


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hola")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        (b"MZ\x90\x00" + b"\x00" * 200, "permit.pdf", "application/pdf"),  # a Windows program
        (b"<html><script>alert(1)</script></html>", "report.pdf", "application/pdf"),
        (b"#!/bin/sh\nrm -rf /\n", "data.csv", "text/csv"),  # one column: not a table
        (b"\x00\x01\x02\x03binary", "data.csv", "text/csv"),
        (b"a,b\n1,2,3\n", "data.csv", "text/csv"),  # ragged rows
        (b"caf\xe9,b\n1,2\n", "data.csv", "text/csv"),  # Latin-1, not UTF-8
        (_plain_zip(), "contrato.docx", files.OOXML["word/document.xml"][0]),
        (b"GIF89a" + b"\x00" * 50, "foto.png", "image/png"),  # a GIF is not on the list
        (b"PK\x03\x04broken", "hoja.xlsx", "application/zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "viejo.doc", "application/msword"),
    ],
)
def test_bytes_that_are_no_allowed_type_are_refused_whatever_the_name_says(
    data, name, content_type
):
    with pytest.raises(ServiceError) as refused:
        sniffed(data, name, content_type)
    assert (refused.value.code, refused.value.field) == ("file_type_not_allowed", "file")


def test_a_damaged_picture_and_a_decompression_bomb_are_refused_as_species_pictures_are():
    truncated = png_bytes((40, 40))[:60]
    with pytest.raises(ServiceError) as damaged:
        sniffed(truncated, "x.png", "image/png")
    assert damaged.value.code == "image_invalid"
    with pytest.raises(ServiceError) as bomb:
        sniffed(png_bytes((9000, 5000)), "x.png", "image/png")
    assert bomb.value.code == "image_too_large"


def test_empty_and_too_large_files_are_refused(settings):
    settings.DOCUMENTS_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ServiceError) as empty:
        files.checked_upload(SimpleUploadedFile("a.pdf", b""))
    assert empty.value.code == "file_empty"
    with pytest.raises(ServiceError) as large:
        files.checked_upload(SimpleUploadedFile("a.pdf", b"%PDF-" + b"x" * 100))
    assert large.value.code == "file_too_large"


def test_checked_upload_gives_type_checksum_and_size():
    data = pdf_bytes("CITES")
    sniff, sha256, size = files.checked_upload(SimpleUploadedFile("a.pdf", data))
    import hashlib

    assert (sniff.content_type, sha256, size) == (
        "application/pdf",
        hashlib.sha256(data).hexdigest(),
        len(data),
    )


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ("..\\..\\windows\\system.ini", "system.ini.pdf"),
        ("C:\\Users\\ana\\Permiso CITES.pdf", "Permiso CITES.pdf"),
        ("per\x00mi\x1bso\n.pdf", "permiso.pdf"),
        ("informe\u202efdp.exe", "informefdp.exe.pdf"),  # no right-to-left override
        ("Informe.PDF", "Informe.PDF"),
        ("Permiso CR-2026.0147", "Permiso CR-2026.0147.pdf"),
        ("...", "document.pdf"),
        ("", "document.pdf"),
        ("Análisis de agua – enero.pdf", "Análisis de agua – enero.pdf"),  # noqa: RUF001
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_filenames_are_cleaned(name, cleaned):
    assert files.clean_filename(name, extension="pdf") == cleaned


@pytest.mark.parametrize(
    ("name", "extension", "cleaned"),
    [
        ("informe.html", "csv", "informe.html.csv"),  # never opened by a browser
        ("lecturas.txt", "csv", "lecturas.txt"),
        ("foto.JPEG", "jpg", "foto.JPEG"),
        ("foto.png", "jpg", "foto.png.jpg"),
        ("acta.docx", "odt", "acta.docx.odt"),
        ("b" * 300 + ".svg", "csv", "b" * 196 + ".csv"),
    ],
)
def test_a_download_name_ends_in_a_suffix_of_its_sniffed_kind(name, extension, cleaned):
    assert files.clean_filename(name, extension=extension) == cleaned


def test_pdf_text_is_read_and_a_broken_pdf_gives_none():
    assert "CITES" in files.pdf_text(io.BytesIO(pdf_bytes("Permiso CITES 2026")), limit=1000)
    assert files.pdf_text(io.BytesIO(b"%PDF-1.4 nonsense"), limit=1000) == ""


@pytest.mark.parametrize(
    "data",
    [
        b"<svg viewBox=0,0,9><script>alert(1)</script>\n</svg>,x,y\n",
        b"a,b\n<script>alert(document.cookie)</script>,x\n",
        b"<!DOCTYPE html>,x\n<html><body onload=alert(1)>,y\n",
        b'<?xml version="1.0"?>,x\n<svg onload="alert(1)">,y\n',
        b"col,other\n<img src=x onerror=alert(1)>,1\n",
    ],
)
def test_markup_is_refused_even_when_its_lines_split_on_commas(data):
    """Each sample splits into two columns on every line, so a comma count alone would take
    it for a CSV file; an SVG or HTML page downloaded and opened runs its scripts."""
    with pytest.raises(ServiceError) as refused:
        sniffed(data, "tabla.csv", "text/csv")
    assert (refused.value.code, refused.value.field) == ("file_type_not_allowed", "file")


def test_a_csv_with_less_than_signs_in_its_cells_is_still_a_csv():
    data = "parámetro;valor;límite\namonio;<0,02;< 0,5\nnitrito;0,01;b<a,x\n".encode()
    assert sniffed(data, "agua.csv") == files.Sniffed("text/csv", "csv")


def zip_bomb(unpacked_mb: int) -> bytes:
    """A docx whose one part is ``unpacked_mb`` MB of zeros: a few hundred kB zipped."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", b'<?xml version="1.0"?><root/>')
        with archive.open("word/media/padding.bin", "w", force_zip64=True) as part:
            zeros = b"\0" * 2**20
            for _ in range(unpacked_mb):
                part.write(zeros)
    return buffer.getvalue()


def test_an_office_document_that_unpacks_a_hundred_times_its_size_is_refused(settings):
    bomb = zip_bomb(200)
    assert len(bomb) < 400 * 1024
    with pytest.raises(ServiceError) as refused:
        sniffed(bomb, "informe.docx")
    assert (refused.value.code, refused.value.field) == ("file_too_large", "file")
    assert "200.0 MB" in refused.value.message


def test_an_office_document_within_the_ratio_is_accepted_and_beyond_four_limits_is_not(
    settings,
):
    # 2 MB of zeros zip to about 2 kB: over the ratio (and over 1 MiB), refused.
    with pytest.raises(ServiceError):
        sniffed(zip_bomb(2), "informe.docx")
    # Under 1 MiB unpacked, no ratio applies (a tiny docx of repeated text is fine).
    assert sniffed(ooxml_bytes("word/document.xml"), "informe.docx").extension == "docx"
    # Beyond four times the upload limit whatever the ratio: random bytes do not compress.
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "word/document.xml": b'<?xml version="1.0"?><root/>',
        "word/media/photo.bin": os.urandom(2**20 + 2**16),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in parts.items():
            archive.writestr(name, part)
    assert sniffed(buffer.getvalue(), "fotos.docx").extension == "docx"
    settings.DOCUMENTS_MAX_UPLOAD_BYTES = 2**18
    with pytest.raises(ServiceError) as refused:
        sniffed(buffer.getvalue(), "fotos.docx")
    assert refused.value.code == "file_too_large"
