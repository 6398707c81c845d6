"""gunicorn workers whose own error answers are in the API's one error shape.

gunicorn answers some requests itself, before the application sees them: a request line too
long (414), headers too many or too large (431), a request that is not valid HTTP (400), and a
500 when something breaks outside the application. It writes those answers in
``Worker.handle_error`` as small HTML pages, and offers no setting or hook to change them; the
way it allows is a worker subclass that overrides that one method (ADR 0018).

The override lets gunicorn do everything it does (choose the status, log the error, write the
access log line) against a stand-in socket that only keeps the status line, then sends the
client JSON instead::

    HTTP/1.1 431 Request Header Fields Too Large
    Content-Type: application/json
    X-Request-ID: 3f0c2e...

    {"code": "request_header_fields_too_large", "message": "...", "errors": [],
     "request_id": "3f0c2e..."}

The message is a fixed sentence per status, in ``LANGUAGE_CODE`` (the request's own headers
may be what could not be read): gunicorn's detail, which quotes the offending line or header,
stays in the server's log and never reaches the client.

``config/gunicorn.py`` picks :class:`JsonErrorSyncWorker`, or :class:`JsonErrorThreadWorker`
when ``GUNICORN_THREADS`` is above 1 (as gunicorn itself switches from sync to gthread).
"""

import json
import logging
import uuid
from http.client import responses
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker
from gunicorn.workers.sync import SyncWorker

from apps.support.common.middleware import REQUEST_ID_HEADER

request_logger = logging.getLogger("parque_marino.request")


class _StatusLine:
    """Takes the client socket's place while gunicorn writes its HTML error page.

    ``gunicorn.util.write_error`` sends the page through ``write_nonblock``, which asks for
    the timeout (0.0: already non-blocking) and calls ``sendall``. Only the status code is
    kept; if gunicorn ever wrote nothing here, the answer would be a 500.
    """

    def __init__(self) -> None:
        self.status = 500

    def gettimeout(self) -> float:
        return 0.0

    def sendall(self, data: bytes) -> None:
        # b"HTTP/1.1 431 Request Header Fields Too Large\r\n..."
        self.status = int(data.split(b" ", 2)[1])


# Django is imported inside the functions: gunicorn's master loads this module (to find the
# worker class) before any Django settings are set up; the workers have set them up long
# before they answer a request.


def _code_and_message(status: int) -> tuple[str, str]:
    """The error code (named as in ``api.errors``) and a message that quotes nothing."""
    from django.utils.translation import gettext as _

    known = {
        400: ("bad_request", _("The server could not read this request: it is not valid HTTP.")),
        403: ("permission_denied", _("This connection is not allowed.")),
        414: (
            "uri_too_long",
            _("The request line (method and address) is longer than the server accepts."),
        ),
        417: ("expectation_failed", _("The server cannot meet the request's Expect header.")),
        431: (
            "request_header_fields_too_large",
            _("The request's headers are too many or too large."),
        ),
        500: ("server_error", _("Something went wrong on our side; it has been logged.")),
        501: ("not_implemented", _("The server does not support a feature this request uses.")),
    }
    return known.get(status, ("error", _("The server could not handle this request.")))


def _json_error(status: int, request_id: str) -> bytes:
    """The whole HTTP answer: status line, headers and the error shape as JSON."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        code, message = _code_and_message(status)
    body = json.dumps(
        {"code": code, "message": message, "errors": [], "request_id": request_id},
        ensure_ascii=False,
    ).encode()
    head = (
        # The reason phrase Django would write (gunicorn's says "Bad Request" for its 501).
        f"HTTP/1.1 {status} {responses.get(status, 'Error')}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"{REQUEST_ID_HEADER}: {request_id}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrors:
    """Mixin for a gunicorn worker class: its own error answers in the API's error shape."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        status_line = _StatusLine()
        # gunicorn chooses the status, logs the error and writes its access log line.
        super().handle_error(req, status_line, addr, exc)  # type: ignore[misc]
        status = status_line.status
        request_id = uuid.uuid4().hex
        request_logger.log(
            logging.ERROR if status >= 500 else logging.WARNING,
            "%s answered by gunicorn before the application",
            status,
            extra={"status": status, "request_id": request_id},
        )
        try:
            util.write_nonblock(client, _json_error(status, request_id))
        except Exception:
            self.log.debug("Failed to send error message.")  # type: ignore[attr-defined]


class JsonErrorSyncWorker(JsonErrors, SyncWorker):
    """gunicorn's ``sync`` worker, with JSON errors."""


class JsonErrorThreadWorker(JsonErrors, ThreadWorker):
    """gunicorn's ``gthread`` worker, with JSON errors."""
