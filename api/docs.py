"""The API's documentation pages (Swagger UI, ReDoc), with nothing fetched from the internet.

drf-spectacular-sidecar serves both from this server. Swagger UI's online validator badge is
switched off in ``SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"]``. ReDoc 2 has no option for the
one thing it still fetches, the Redocly logo of its sidebar's footer ("API docs by Redocly"):
this server hands out the sidecar's bundle with that logo replaced by an empty picture; the
footer and its link stay.
"""

import functools
import hashlib
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import etag, require_safe
from drf_spectacular.views import SpectacularRedocView

REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOCLY_LOGO = '"https://cdn.redoc.ly/redoc/logo-mini.svg"'
# A square picture with nothing in it (the footer keeps the logo's 15 px), allowed by the
# pages' Content-Security-Policy (img-src data:).
EMPTY_PICTURE = (
    "\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 1 1'/%3E\""
)
SOURCE_MAP = "//# sourceMappingURL=redoc.standalone.js.map"


@functools.cache
def redoc_bundle() -> bytes:
    """The sidecar's ReDoc bundle, without the remote logo, its source map still found."""
    path = finders.find(REDOC_BUNDLE)
    if not isinstance(path, str):
        raise FileNotFoundError(REDOC_BUNDLE)
    text = Path(path).read_text(encoding="utf-8")
    text = text.replace(REDOCLY_LOGO, EMPTY_PICTURE)
    text = text.replace(SOURCE_MAP, f"//# sourceMappingURL={static(REDOC_BUNDLE)}.map")
    return text.encode()


@functools.cache
def _redoc_bundle_etag() -> str:
    return hashlib.sha256(redoc_bundle()).hexdigest()[:32]


# Read only: csrf_exempt lets a write reach require_safe (405 with Allow: GET, HEAD) instead of
# failing CSRF first (403 csrf_failed, "CSRF cookie not set").
@csrf_exempt
@require_safe
@gzip_page
@etag(lambda request: _redoc_bundle_etag())
def redoc_bundle_view(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


class RedocView(SpectacularRedocView):
    """ReDoc's page (``api/redoc.html``: no web fonts) loading the bundle above."""

    template_name = "api/redoc.html"

    @staticmethod
    def _redoc_standalone() -> str:
        return reverse("v1:redoc-bundle")
