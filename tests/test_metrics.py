"""Prometheus metrics are there for operators and hidden from everyone else."""

import os
import uuid

import pytest

pytestmark = pytest.mark.django_db


def test_metrics_hidden_by_default(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 404


def test_metrics_with_the_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert response.status_code == 200
    assert "django_http_requests_before_middlewares_total" in response.content.decode()


def test_metrics_from_an_allowed_network(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.1.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 404


def test_metrics_behind_a_proxy_go_by_the_client_it_saw(client, settings):
    """The proxy runs on this host: every request reaches Django from 127.0.0.1."""
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1", "10.1.0.0/16"]
    settings.TRUSTED_PROXY_COUNT = 1
    from_the_internet = client.get(
        "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert from_the_internet.status_code == 404
    from_the_scraper = client.get(
        "/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3"
    )
    assert from_the_scraper.status_code == 200


def scraped(client, settings) -> str:
    settings.METRICS_TOKEN = "metrics-token-for-tests"
    settings.METRICS_ALLOWED_IPS = []
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer metrics-token-for-tests")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.redis
def test_the_celery_queues_waiting_tasks_are_read_from_the_broker(client, settings, monkeypatch):
    """A real Redis broker (a database of its own) with three messages waiting in a queue of
    this test, and an empty queue the broker has never seen."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set")
    from kombu import Connection

    from api import metrics

    broker = f"{redis_url.rsplit('/', 1)[0]}/14"
    queue, empty = f"metrics-{uuid.uuid4().hex[:8]}", f"metrics-{uuid.uuid4().hex[:8]}"
    settings.CELERY_BROKER_URL = broker
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(metrics, "celery_queues", lambda: [queue, empty])
    with Connection(broker) as connection:
        waiting = connection.SimpleQueue(queue)
        for number in range(3):
            waiting.put({"n": number})
        try:
            page = scraped(client, settings)
            assert f'parque_celery_queue_length{{queue="{queue}"}} 3.0' in page
            assert f'parque_celery_queue_length{{queue="{empty}"}} 0.0' in page
            assert "parque_celery_broker_up 1.0" in page
        finally:
            waiting.clear()
            waiting.close()


def test_a_broker_that_does_not_answer_leaves_the_queues_out_not_the_page(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    settings.CELERY_TASK_ALWAYS_EAGER = False
    page = scraped(client, settings)
    assert "parque_celery_broker_up 0.0" in page
    assert "parque_celery_queue_length{" not in page
    assert "parque_business_metrics_up 1.0" in page
