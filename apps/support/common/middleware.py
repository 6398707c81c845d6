"""Request id and request log: cross-cutting, so they apply to the API, the admin and health."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .request_context import request_id_var, request_var, user_id_var

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

request_logger = logging.getLogger("parque_marino.request")


def _authenticated_user_id(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return str(user.pk)
    return ""


class RequestIdMiddleware:
    """Takes the client's ``X-Request-ID`` (when well formed) or makes one, and returns it.

    The id is on ``request.request_id``, in every log line of the request, in every error body,
    and travels with the Celery tasks the request enqueues.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _VALID_REQUEST_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        request_id_token = request_id_var.set(request_id)
        user_token = user_id_var.set("")
        request_token = request_var.set(request)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(request_id_token)
            user_id_var.reset(user_token)
            request_var.reset(request_token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestLogMiddleware:
    """One log line per request: method, path, status, duration in ms (plus request/user id)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        user_id_var.set(_authenticated_user_id(request))
        response = self.get_response(request)
        # API views authenticate inside the view (JWT); the user is known only now.
        user_id_var.set(_authenticated_user_id(request))
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        status = response.status_code
        level = (
            logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        )
        request_logger.log(
            level,
            "%s %s %s %.2fms",
            request.method,
            request.path,
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": duration_ms,
            },
        )
        return response
