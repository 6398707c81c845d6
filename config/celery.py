"""The Celery application.

Eager (in-process) unless ``CELERY_BROKER_URL`` is set; then tasks go through the broker to
workers started with ``celery -A config worker``. Tasks are found in each app's ``tasks.py``.
The request id of the HTTP request that enqueued a task travels with it into the worker logs.
"""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")

app = Celery("parque_marino")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@before_task_publish.connect
def _attach_request_id(headers: dict, **kwargs: object) -> None:
    from apps.support.common.request_context import request_id_var

    request_id = request_id_var.get()
    if request_id:
        headers.setdefault("request_id", request_id)


@task_prerun.connect
def _restore_request_id(task: object, **kwargs: object) -> None:
    from apps.support.common.request_context import request_id_var

    request_id = getattr(getattr(task, "request", None), "request_id", None)
    request_id_var.set(request_id or "")


@task_postrun.connect
def _clear_request_id(**kwargs: object) -> None:
    from apps.support.common.request_context import request_id_var

    request_id_var.set("")
