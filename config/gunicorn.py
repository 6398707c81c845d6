"""gunicorn configuration: ``gunicorn -c config/gunicorn.py config.wsgi``.

Each setting can be overridden with the variables read below or with gunicorn's own flags.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# gunicorn's own error answers (414, 431, 400, its 500) in the API's error shape (ADR 0018):
# sync workers, or gthread when threads > 1, as gunicorn itself would choose.
worker_class = (
    "config.gunicorn_workers.JsonErrorThreadWorker"
    if threads > 1
    else "config.gunicorn_workers.JsonErrorSyncWorker"
)
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# Requests are logged once, as JSON with the request id, by the application itself.
accesslog = None
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server: object, worker: object) -> None:
    """Tell prometheus_client that a worker is gone (multiprocess metrics mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def on_starting(server: object) -> None:
    """Say so when gunicorn's own errors would be HTML pages.

    That happens when the worker class is chosen on the command line (``-k``), or when
    ``--threads`` is given there instead of ``GUNICORN_THREADS``: gunicorn then swaps a sync
    worker class for its stock gthread worker.
    """
    from config.gunicorn_workers import JsonErrors

    worker_class = server.worker_class  # type: ignore[attr-defined]
    if not issubclass(worker_class, JsonErrors):
        server.log.warning(  # type: ignore[attr-defined]
            "Worker %s answers gunicorn's own errors (414, 431, 400, 500) in HTML, not JSON; "
            "use the worker classes of config/gunicorn.py (threads: GUNICORN_THREADS).",
            worker_class.__name__,
        )
