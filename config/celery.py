"""The Celery application.

Eager (in-process) unless ``CELERY_BROKER_URL`` is set; then tasks go through the broker to
workers started with ``celery -A config worker``. Tasks are found in each app's ``tasks.py``.
The request id of the HTTP request that enqueued a task travels with it into the worker logs.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

app = Celery("parque_marino")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**kwargs: object) -> None:
    """Workers log through settings.LOGGING (JSON lines with the request id), not Celery's own."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


@before_task_publish.connect
def _attach_request_id(headers: dict, **kwargs: object) -> None:
    from apps.support.common.request_context import request_id_var

    request_id = request_id_var.get()
    if request_id:
        headers.setdefault("request_id", request_id)


def _request_id_of(task: Any) -> str:
    request = getattr(task, "request", None)
    given = getattr(request, "request_id", None) or (getattr(request, "headers", None) or {}).get(
        "request_id"
    )
    return str(given or "")


@task_prerun.connect
def _restore_request_id(task: Any, **kwargs: object) -> None:
    """In a worker, log lines of the task carry the id of the request that enqueued it.

    Eager tasks run inside the request itself and keep its id untouched.
    """
    from apps.support.common.request_context import request_id_var

    request_id = _request_id_of(task)
    if request_id:
        task.request.request_id_token = request_id_var.set(request_id)


@task_postrun.connect
def _clear_request_id(task: Any, **kwargs: object) -> None:
    from apps.support.common.request_context import request_id_var

    token = getattr(task.request, "request_id_token", None)
    if token is not None:
        request_id_var.reset(token)
        task.request.request_id_token = None
