"""Tasks run eagerly by default, and through a real broker to a real worker when configured."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.core import mail

from apps.support.common.services import email_send_on_commit
from apps.support.common.tasks import send_email

ROOT = Path(__file__).resolve().parent.parent


def test_eager_task_sends_the_email():
    assert send_email.delay(subject="Hola", body="Bienvenida", to=["a@example.org"]).get() == 1
    assert [(m.subject, m.to) for m in mail.outbox] == [("Hola", ["a@example.org"])]


@pytest.mark.django_db
def test_email_leaves_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email_send_on_commit(subject="Tickets", body="Your tickets", to=["b@example.org"])
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert [m.subject for m in mail.outbox] == ["Tickets"]


@pytest.mark.redis
def test_task_round_trips_through_redis_and_a_worker(tmp_path):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set")
    base = redis_url.rsplit("/", 1)[0]
    broker, backend = f"{base}/14", f"{base}/15"
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings.development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": backend,
        "EMAIL_URL": "",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--queues",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # A separate client app, not made the current one: shared tasks (send_email) stay bound to
    # the project's eager app for the rest of this process's tests.
    client = Celery("test-client", broker=broker, backend=backend, set_as_current=False)
    try:
        result = client.send_task(
            "common.send_email",
            kwargs={"subject": "Via Redis", "body": "x", "to": ["c@example.org"]},
            queue=queue,
            headers={"request_id": "trace-worker-1"},
        )
        assert result.get(timeout=60) == 1, (tmp_path / "worker.log").read_text()
        assert result.status == "SUCCESS"
        # Eager execution would have put the email in this process's outbox: it did not.
        assert mail.outbox == []
    finally:
        client.close()
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    lines = [
        json.loads(line)
        for line in (tmp_path / "worker.log").read_text().splitlines()
        if line.startswith("{")
    ]
    sent = [line for line in lines if line["logger"] == "apps.support.common.tasks"]
    assert [(line["message"], line["request_id"]) for line in sent] == [
        ("Sent 1 email(s) 'Via Redis' to 1 recipient(s)", "trace-worker-1")
    ]
    # The client app took nothing over: the project's tasks still run eagerly here.
    assert send_email.app.conf.task_always_eager is True


def test_request_id_is_attached_to_published_tasks():
    from apps.support.common.request_context import request_id_var
    from config.celery import _attach_request_id

    headers: dict[str, str] = {}
    token = request_id_var.set("trace-publish-1")
    try:
        _attach_request_id(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {"request_id": "trace-publish-1"}


def test_eager_task_keeps_the_request_id_of_its_request():
    from apps.support.common.request_context import request_id_var

    token = request_id_var.set("trace-eager-1")
    try:
        send_email.delay(subject="x", body="y", to=["d@example.org"])
        assert request_id_var.get() == "trace-eager-1"
    finally:
        request_id_var.reset(token)


def test_every_scheduled_task_is_a_registered_task():
    from django.conf import settings

    from config.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)
    assert "payments.retry_webhook_events" in scheduled
