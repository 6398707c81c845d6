"""Logging pieces referenced from ``settings.LOGGING``."""

import logging

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

from .request_context import request_id_var, user_id_var


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` to every record, so every line can be traced."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get() or "-"
        if not getattr(record, "user_id", None):
            record.user_id = user_id_var.get() or "-"
        return True


class DropRunserverAccessLines(logging.Filter):
    """Drops the access line runserver writes for each request (``"GET / HTTP/1.1" 200 312``).

    ``RequestLogMiddleware`` logs each request once, with its request id, user and duration;
    runserver's other messages (a request in HTTPS, a broken pipe, a malformed request) pass.
    """

    # The format of http.server's BaseHTTPRequestHandler.log_request, which runserver keeps.
    ACCESS_FORMAT = '"%s" %s %s'

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != self.ACCESS_FORMAT


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: timestamp, level, logger, message, request and user ids.

    Extra fields given to a log call (``method``, ``path``, ``status``, ``duration_ms`` from the
    request log) are added as keys of their own.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
            timestamp=False,
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
