"""Per-request (or per-task) context that log lines and audit entries carry.

Context variables rather than thread locals: they work the same under WSGI threads, ASGI and
Celery workers.
"""

from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
user_id_var: ContextVar[str] = ContextVar("user_id", default="")
# The request being served (None in tasks and commands): audit entries read the caller, the
# client IP and the user agent from it.
request_var: ContextVar[Any] = ContextVar("request", default=None)
