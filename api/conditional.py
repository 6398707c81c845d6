"""ETags on public reads: ``If-None-Match`` with the current tag answers 304 without a body.

The tag is a hash of the rendered body, so it changes exactly when what a client would see
changes (a publication, a language, a page), whatever caused it.
"""

import hashlib
from typing import Any

from django.http import HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from rest_framework.request import Request
from rest_framework.response import Response

COPIED_HEADERS = ("Cache-Control", "Vary", "Content-Language", "Expires")


class ETagMixin:
    """For views whose successful GETs may be revalidated; ``etag_response`` decides which."""

    def etag_response(self, request: Request, response: Response) -> bool:
        return True

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if (
            request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or not self.etag_response(request, response)
        ):
            return response
        patch_vary_headers(response, ("Accept-Language",))
        response.render()
        tag = f'"{hashlib.blake2b(response.content, digest_size=16).hexdigest()}"'
        response["ETag"] = tag
        # A proxy that compresses the body weakens the tag (W/"..."): it still matches.
        wanted = {
            etag.removeprefix("W/")
            for etag in parse_etags(request.headers.get("If-None-Match", ""))
        }
        if tag in wanted or "*" in wanted:
            not_modified = HttpResponseNotModified()
            not_modified["ETag"] = tag
            for header in COPIED_HEADERS:
                if header in response:
                    not_modified[header] = response[header]
            return not_modified
        return response
