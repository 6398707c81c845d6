"""What an uploaded file is, told from its bytes (never its name or its Content-Type header),
its cleaned name, and its SHA-256 (docs/adr/0035).

Allowed: PDF; JPEG, PNG and WebP pictures (then also opened with Pillow, as species pictures
are: whole, and not a decompression bomb); Office Open XML (docx, xlsx, pptx) and
OpenDocument (odt, ods, odp) files, recognised by the parts inside their ZIP container; CSV,
recognised as UTF-8 text without control characters whose lines split into the same number
of columns. Anything else is refused with 400 and nothing is stored.
"""

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import IO

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from apps.support.common.errors import ServiceError
from apps.support.common.images import checked_image

from . import errors

PDF = "application/pdf"
CSV = "text/csv"
IMAGES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
# The part each Office Open XML kind must have, beside [Content_Types].xml.
OOXML = {
    "word/document.xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    "xl/workbook.xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    ),
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
    ),
}
OPENDOCUMENT = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
}
ALLOWED_TYPES = (
    PDF,
    *IMAGES,
    *(content_type for content_type, _extension in OOXML.values()),
    *OPENDOCUMENT,
    CSV,
)
CHUNK = 64 * 1024
CSV_SAMPLE = 64 * 1024
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")
# A tag as a browser reads one: "<", a letter, the rest of the name, then a space, "/", ">" or
# the line's end (``<script>``, ``<svg/onload=…>``, ``<details open ontoggle=…>``); or a
# declaration, comment or processing instruction (``<!DOCTYPE``, ``<!--``, ``<?xml``). A "<"
# before a digit, a space or a comma (``<0,02``, ``< 0,5``, ``b<a,1``) is an ordinary cell.
_MARKUP = re.compile(rb"<[A-Za-z][A-Za-z0-9-]*[\s/>]|<[!?]")
_MARKUP_AT_END = re.compile(rb"<[A-Za-z][A-Za-z0-9-]*\Z")
MARKUP_OVERLAP = 4096  # bytes carried from a chunk to the next, so no tag is split unseen
# An office file's parts, uncompressed, may weigh this many times the file (text compresses
# about 10 times, pictures not at all) and never more than this many times the upload limit:
# beyond, it is a decompression bomb for whoever opens it.
ZIP_MAX_RATIO = 100
ZIP_MAX_TIMES_LIMIT = 4


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str


def _refused() -> ServiceError:
    return ServiceError(
        _(
            "This kind of file is not accepted: upload a PDF, a JPEG, PNG or WebP picture, an "
            "office document (docx, xlsx, pptx, odt, ods, odp) or a CSV file."
        ),
        code=errors.FILE_TYPE_NOT_ALLOWED,
        field="file",
    )


def _zipped(file: IO[bytes]) -> Sniffed | None:
    """An Office Open XML or OpenDocument file, by the parts of its ZIP container (their
    names are read from the central directory; only OpenDocument's tiny ``mimetype`` is
    decompressed)."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            _not_a_bomb(archive, file.seek(0, io.SEEK_END))
            names = set(archive.namelist())
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                declared = archive.read("mimetype").decode("ascii", "replace").strip()
                if declared in OPENDOCUMENT and "content.xml" in names:
                    return Sniffed(declared, OPENDOCUMENT[declared])
            if "[Content_Types].xml" in names:
                for part, (content_type, extension) in OOXML.items():
                    if part in names:
                        return Sniffed(content_type, extension)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        KeyError,
        OSError,
        ValueError,
        EOFError,
        RuntimeError,  # an encrypted part
        NotImplementedError,  # a compression method zipfile does not know
        zlib.error,  # damaged deflate data
    ):
        return None
    return None


def _not_a_bomb(archive: zipfile.ZipFile, size: int) -> None:
    """Refuse a ZIP container whose parts, by its directory, unpack to more than
    ``ZIP_MAX_RATIO`` times its size (over 1 MiB) or ``ZIP_MAX_TIMES_LIMIT`` times the
    upload limit. Nothing is unpacked to tell (the directory holds each part's size)."""
    unpacked = sum(info.file_size for info in archive.infolist())
    most = ZIP_MAX_TIMES_LIMIT * settings.DOCUMENTS_MAX_UPLOAD_BYTES
    if unpacked > most or (unpacked > 2**20 and unpacked > ZIP_MAX_RATIO * max(size, 1)):
        raise ServiceError(
            _(
                "This office document unpacks to %(size)s MB, far more than its own size: "
                "it is refused as a decompression bomb."
            )
            % {"size": round(unpacked / 2**20, 1)},
            code=errors.FILE_TOO_LARGE,
            field="file",
        )


def _holds_markup(file: IO[bytes]) -> bool:
    file.seek(0)
    tail = b""
    while chunk := file.read(CHUNK):
        window = tail + chunk
        if _MARKUP.search(window):
            return True
        tail = window[-MARKUP_OVERLAP:]
    return _MARKUP_AT_END.search(tail) is not None


def _csv(file: IO[bytes]) -> Sniffed | None:
    """UTF-8 text (a BOM allowed), no control characters but tabs and line ends, whose first
    lines split into the same number (two or more) of columns by one of , ; or tab."""
    file.seek(0)
    sample = file.read(CSV_SAMPLE)
    whole = len(sample) < CSV_SAMPLE
    if whole:
        try:
            text = sample.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    else:  # the sample may end inside a character: drop the last line
        text = sample.decode("utf-8-sig", errors="ignore").rsplit("\n", 1)[0]
        try:
            sample[: len(text.encode("utf-8"))].decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    if not text.strip() or any(
        unicodedata.category(char) == "Cc" and char not in "\t\r\n" for char in text
    ):
        return None
    # Markup is no table, whatever its commas: an SVG or HTML page opened from a download
    # runs its scripts. The whole file is read for it, not only the sample.
    if _holds_markup(file):
        return None
    lines = [line for line in text.splitlines() if line.strip()][:50]
    for delimiter in (",", ";", "\t"):
        widths = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        if len(widths) == 1 and widths.pop() >= 2:
            return Sniffed(CSV, "csv")
    return None


def sniff(file: UploadedFile) -> Sniffed:
    """The type of ``file`` from its bytes, if it is one the park accepts; else 400."""
    file.seek(0)
    head = file.read(8192)
    file.seek(0)
    if head.startswith(b"%PDF-"):
        return Sniffed(PDF, "pdf")
    kind = filetype.guess(head)
    if kind is not None and kind.mime in IMAGES:
        checked_image(file, max_bytes=settings.DOCUMENTS_MAX_UPLOAD_BYTES, field="file")
        return Sniffed(kind.mime, IMAGES[kind.mime])
    if head.startswith(b"PK\x03\x04"):
        zipped = _zipped(file)
        if zipped is not None:
            return zipped
        raise _refused()
    if kind is None:
        text = _csv(file)
        if text is not None:
            return text
    raise _refused()


def checked_upload(file: UploadedFile) -> tuple[Sniffed, str, int]:
    """``file``'s sniffed type, SHA-256 and size, if it is not empty, within
    ``DOCUMENTS_MAX_UPLOAD_BYTES`` and of an accepted type; else ``ServiceError``."""
    limit = settings.DOCUMENTS_MAX_UPLOAD_BYTES
    if file.size is not None and file.size > limit:
        raise ServiceError(
            _("The file is larger than %(limit)s MB.") % {"limit": round(limit / 2**20, 1)},
            code=errors.FILE_TOO_LARGE,
            field="file",
        )
    if not file.size:
        raise ServiceError(_("The file is empty."), code=errors.FILE_EMPTY, field="file")
    sniffed = sniff(file)
    file.seek(0)
    return sniffed, sha256_of(file), file.size


def sha256_of(file: IO[bytes]) -> str:
    """SHA-256 of a file read in 64 KiB chunks from its start (as Paperless-ngx does)."""
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(CHUNK):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


# The suffixes a download's name may keep for each sniffed kind; any other gets the kind's own
# appended, so the saved file opens as what it is ("informe.html" holding a CSV is
# "informe.html.csv", never opened by a browser).
SUFFIXES = {
    "jpg": {"jpg", "jpeg", "jpe", "jfif"},
    "csv": {"csv", "txt", "tsv"},
}


def clean_filename(name: str, *, extension: str) -> str:
    """The uploaded name as people will see it on download: its last path segment only
    (no ``../``, no folders, either slash), no control or format characters (no
    right-to-left override), normalised (NFC), ending in a suffix of its sniffed kind
    (``extension``, appended when the name has another), at most 200 characters;
    ``document.<ext>`` when nothing is left. Never used as a storage key (docs/adr/0037)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_NAME.sub("", name)
    # Control and format characters (a right-to-left override turns "fdp.exe" around).
    name = "".join(char for char in name if unicodedata.category(char) not in {"Cc", "Cf"})
    name = name.strip().strip(".").strip()
    if not name:
        return f"document.{extension}"
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix.lower() not in SUFFIXES.get(extension, {extension}):
        stem, suffix = name, extension
    return f"{stem[: 200 - len(suffix) - 1].rstrip()}.{suffix}"


def pdf_text(data: IO[bytes], *, limit: int) -> str:
    """The text of a PDF's pages, at most ``limit`` characters; "" when it has none or
    cannot be read (a scanned permit, a damaged file): search then finds it by its title."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data.read()))
        parts: list[str] = []
        size = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size >= limit:
                break
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, RecursionError):
        return ""
    return "\n".join(parts)[:limit].replace("\x00", "")
