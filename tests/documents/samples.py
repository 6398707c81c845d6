"""Small real files of every accepted kind (and some that are not), made in code."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from fpdf import FPDF
from PIL import Image


def pdf_bytes(*lines: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for line in lines or ("Parque Marino",):
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def png_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(parts: dict[str, bytes], *, first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first is not None:
            archive.writestr(first, parts.pop(first), compress_type=zipfile.ZIP_STORED)
        for name, data in parts.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ooxml_bytes(main_part: str) -> bytes:
    return _zip(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
            main_part: b'<?xml version="1.0"?><root/>',
        }
    )


def opendocument_bytes(mime: str) -> bytes:
    return _zip(
        {"mimetype": mime.encode(), "content.xml": b'<?xml version="1.0"?><office/>'},
        first="mimetype",
    )


CSV_BYTES = "especie;individuos;fecha\nTortuga lora;3;2026-01-05\nTiburón;1;2026-02-01\n".encode()


def upload(data: bytes, name: str = "file.pdf", content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def pdf(name: str = "permiso.pdf", *lines: str) -> SimpleUploadedFile:
    return upload(pdf_bytes(*lines), name)
