"""Liveness and readiness for load balancers and orchestrators."""

import pytest

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def test_live_answers_without_touching_anything(api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get("/health/live/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_each_check(api_client):
    response = api_client.get("/health/ready/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "storage": "ok",
    }


def test_ready_is_degraded_not_503_when_the_cache_is_down(api_client, settings):
    """The API serves without the cache (docs/adr/0038): the instance stays in the pool."""
    from config.settings.base import redis_cache

    settings.CACHES = {"default": redis_cache(UNREACHABLE_REDIS)}
    response = api_client.get("/health/ready/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"]["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "ok"


def test_ready_is_503_when_the_database_is_down_even_if_only_with_the_cache(
    api_client, settings, monkeypatch
):
    from django.db.backends.base.base import BaseDatabaseWrapper

    from config.settings.base import redis_cache

    def refuse(self):
        raise ConnectionError("database unreachable")

    settings.CACHES = {"default": redis_cache(UNREACHABLE_REDIS)}
    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refuse)
    response = api_client.get("/health/ready/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert (body["checks"]["database"]["status"], body["checks"]["cache"]["status"]) == (
        "unavailable",
        "unavailable",
    )


def test_ready_is_503_when_storage_is_not_writable(api_client, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = str(blocked)
    response = api_client.get("/health/ready/")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "unavailable"


def test_ready_checks_the_broker_when_one_is_configured(api_client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(celery_app.conf, "broker_url", UNREACHABLE_REDIS)
    response = api_client.get("/health/ready/")
    assert response.status_code == 503
    broker = response.json()["checks"]["celery_broker"]
    assert broker["status"] == "unavailable"
    assert broker["error"] == "Unavailable: Broker unreachable"
