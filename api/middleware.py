"""HTTP-level guards for everything under /api/: what is refused before any view runs, and
the promise that every error leaves as JSON in the one error shape, whatever ``DEBUG`` says."""

import logging
import re
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.translation import gettext as _

from .errors import BODY_REFUSALS, body_refusal_message, error_response
from .serializers import NUL_NOT_ALLOWED, holds_nul

logger = logging.getLogger("parque_marino.api")

API_PREFIX = "/api/"
UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
DATABASE_RETRY_AFTER_SECONDS = 5
# Strings (with their escapes) and brackets: what decides how deep a JSON text nests.
_JSON_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_OPENING = frozenset(b"[{")
# Headers of an inner error response that a client still needs after it is rewritten as JSON.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def json_nesting_exceeds(raw: bytes, limit: int) -> bool:
    """Whether the JSON text ``raw`` nests arrays and objects deeper than ``limit``.

    Read without parsing (a parser would recurse into the depth it is checking), in one pass
    over its strings and brackets; most bodies are decided by counting brackets alone.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _JSON_TOKENS.finditer(raw):
        token = match.group()
        if len(token) != 1:
            continue  # a string: brackets inside it do not nest
        if token[0] in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class ApiErrorMiddleware:
    """Under /api/, before anything else reads the request:

    - a path holding a NUL character names nothing: 404;
    - a Host header that ``ALLOWED_HOSTS`` does not list: 400 ``disallowed_host``;
    - a body larger than ``API_MAX_BODY_BYTES`` (or than an upload route allows, see
      ``body_limit``): 413; a chunked body without Content-Length
      (which Django would read as empty): 411;
    - a body nesting JSON deeper than ``API_MAX_JSON_DEPTH``: 400 ``parse_error``, before any
      parser recurses into it.

    And after: a crash is logged and answered 500, and any error answer that is not JSON (an
    HTML page of Django's, of its debug mode or of another middleware) is rewritten in the one
    error shape. An API client never gets an HTML page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            try:
                request.get_host()
            except DisallowedHost:
                # Never Django's debug page (it lists the settings), whatever DEBUG says.
                return HttpResponseBadRequest(
                    "Bad Request (400)", content_type="text/plain; charset=utf-8"
                )
            return self.get_response(request)
        # Before LocaleMiddleware: answer in the request's language, not the thread's last one.
        with translation.override(translation.get_language_from_request(request)):
            refused = self._refuse(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        language = getattr(request, "LANGUAGE_CODE", "") or translation.get_language_from_request(
            request
        )
        with translation.override(language):
            return self._as_json_error(request, response)

    def _refuse(self, request: HttpRequest) -> HttpResponse | None:
        if "\x00" in request.path:
            return error_response(request, 404, message=_("No resource at this address."))
        with_nul = sorted({key for key, values in request.GET.lists() if holds_nul([key, *values])})
        if with_nul:
            return error_response(
                request,
                400,
                code="validation_error",
                message=_("The request has invalid fields."),
                errors=[
                    {
                        "field": key,
                        "code": "null_characters_not_allowed",
                        "message": str(NUL_NOT_ALLOWED),
                    }
                    for key in with_nul
                ],
            )
        try:
            request.get_host()
        except DisallowedHost:
            return error_response(
                request,
                400,
                code="disallowed_host",
                message=_("This server does not answer for the Host the request names."),
            )
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(request, 400, message=_("Content-Length is not a number."))
        limit = settings.API_MAX_BODY_BYTES
        if length > limit:
            limit = body_limit(request, limit)
        if length > limit:
            return error_response(
                request,
                413,
                message=_("The request body is larger than the limit of %(limit)d bytes.")
                % {"limit": limit},
            )
        charset = (request.content_params or {}).get("charset", "utf-8").lower()
        if length and charset not in UTF8_NAMES and _is_json(request.content_type):
            return error_response(
                request,
                415,
                message=_("JSON bodies are UTF-8 text; %(charset)s is not accepted.")
                % {"charset": charset[:40]},
            )
        chunked = "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not request.META.get("CONTENT_LENGTH"):
            return error_response(
                request,
                411,
                code="length_required",
                message=_("Send the request body with a Content-Length header, not chunked."),
            )
        if length and not (request.content_type or "").startswith("multipart/"):
            depth = settings.API_MAX_JSON_DEPTH
            if json_nesting_exceeds(request.body, depth):
                return error_response(
                    request,
                    400,
                    code="parse_error",
                    message=_("JSON parse error: nested deeper than %(depth)d levels.")
                    % {"depth": depth},
                )
        return None

    def _as_json_error(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code < 400 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        status = response.status_code
        message = _status_message(status)
        rewritten = error_response(request, status, message=message)
        for header in _KEPT_HEADERS:
            if header in response:
                rewritten[header] = response[header]
        return rewritten

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, BODY_REFUSALS):
            return error_response(request, 413, message=body_refusal_message(exception))
        if isinstance(exception, OperationalError):
            # The database did not answer (down, restarting, out of connections): nothing was
            # written that the client must know of, and the same request may work in a moment.
            logger.exception("Database unavailable on %s %s", request.method, request.path)
            response = error_response(
                request,
                503,
                message=_("The service is unavailable for a moment; please try again."),
            )
            response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
            return response
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(
            request, 500, message=_("Something went wrong on our side; it has been logged.")
        )


def body_limit(request: HttpRequest, default: int) -> int:
    """The largest body the request's route accepts: ``default``, unless the view is an
    upload route for larger files (a multipart body to a view class whose
    ``max_upload_body_bytes(action)`` answers a number; documents allow their own limit).
    Resolved only for a body over ``default``, so other requests pay nothing."""
    if not (request.content_type or "").startswith("multipart/"):
        return default
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return default
    allows = getattr(getattr(view, "cls", None), "max_upload_body_bytes", None)
    if allows is None:
        return default
    action = (getattr(view, "actions", None) or {}).get((request.method or "").lower())
    larger = allows(action)
    return max(default, larger) if larger is not None else default


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").lower()
    return media == "application/json" or media.endswith("+json")


def _status_message(status: int) -> str:
    messages = {
        400: _("Bad request."),
        401: _("Authentication credentials were not provided or are not valid."),
        403: _("You do not have permission."),
        404: _("No resource at this address."),
        405: _("Method not allowed."),
        406: _("The requested representation is not available."),
        411: _("Send the request body with a Content-Length header, not chunked."),
        413: _("The request body is too large."),
        415: _("Unsupported content type."),
        429: _("Too many requests; try again later."),
    }
    if status in messages:
        return messages[status]
    if status >= 500:
        return _("Something went wrong on our side; it has been logged.")
    try:
        return HTTPStatus(status).phrase + "."
    except ValueError:
        return _("Bad request.")
