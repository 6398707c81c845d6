"""HTTP-level guards for everything under /api/."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .errors import error_response

logger = logging.getLogger("parque_marino.api")

API_PREFIX = "/api/"


class ApiErrorMiddleware:
    """Under /api/: refuse oversized bodies with 413, answer crashes with JSON 500.

    Both in the API's one error shape, whatever ``DEBUG`` says: an API client never gets an
    HTML page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            too_big = self._body_too_large(request)
            if too_big is not None:
                return too_big
        return self.get_response(request)

    def _body_too_large(self, request: HttpRequest) -> HttpResponse | None:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(request, 400, message=_("Content-Length is not a number."))
        limit = settings.API_MAX_BODY_BYTES
        if length > limit:
            return error_response(
                request,
                413,
                message=_("The request body is larger than the limit of %(limit)d bytes.")
                % {"limit": limit},
            )
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(
            request, 500, message=_("Something went wrong on our side; it has been logged.")
        )
