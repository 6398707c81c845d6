"""Renderers shared by the views that answer something other than JSON."""

from typing import Any

from rest_framework.renderers import BaseRenderer, JSONRenderer


class CSVRenderer(BaseRenderer):
    """Lets clients ask for ``text/csv``. CSV exports stream their CSV themselves, so this
    renderer only ever renders errors: in the JSON error shape, labelled ``application/json``."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = JSONRenderer.media_type
        return JSONRenderer().render(data)


class PDFRenderer(CSVRenderer):
    """Lets clients ask for ``application/pdf`` (``Accept: application/pdf``). PDF views
    answer the document's bytes themselves; this renders only their errors, as JSON."""

    media_type = "application/pdf"
    format = "pdf"


class AnyFileRenderer(CSVRenderer):
    """Lets clients ask for any media type (``Accept: image/png``, ``*/*``) where a view
    answers a stored file of its own type (documents); only errors are rendered here, as
    JSON."""

    media_type = "*/*"
    format = "file"
