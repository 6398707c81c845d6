"""Every response carries X-Request-ID, and every log line of the request carries it too."""

import io
import json
import logging
import re

import pytest

from apps.support.common.logging import JsonFormatter, RequestContextFilter
from tests.helpers import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """The production log handler (filter + JSON formatter) on the request logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("parque_marino.request")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_given_request_id_is_returned(api_client):
    response = api_client.get("/api/v1/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"


def test_missing_or_malformed_request_id_is_replaced(api_client):
    generated = api_client.get("/api/v1/")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    replaced = api_client.get("/api/v1/", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_request_log_line_is_json_with_request_and_user(api_client, user, json_log):
    api_client.get(
        "/api/v1/",
        HTTP_X_REQUEST_ID="trace-7",
        **{"HTTP_AUTHORIZATION": bearer(user)["Authorization"]},
    )
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == {
        "timestamp",
        "level",
        "logger",
        "message",
        "request_id",
        "user_id",
        "method",
        "path",
        "status",
        "duration_ms",
    }
    assert (line["level"], line["logger"]) == ("INFO", "parque_marino.request")
    assert (line["request_id"], line["user_id"]) == ("trace-7", str(user.pk))
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/", 200)
    assert isinstance(line["duration_ms"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", line["timestamp"])


def test_anonymous_request_logs_a_dash_for_the_user(api_client, json_log):
    api_client.get("/health/live/")
    line = json.loads(json_log.getvalue())
    assert line["user_id"] == "-"
    assert line["path"] == "/health/live/"
