"""Per-request (or per-task) context that every log line carries.

Context variables rather than thread locals: they work the same under WSGI threads, ASGI and
Celery workers.
"""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
user_id_var: ContextVar[str] = ContextVar("user_id", default="")
