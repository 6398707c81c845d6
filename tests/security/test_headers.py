"""Content-Security-Policy on the back office and the API docs; CORS from settings."""

import re

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["/admin/login/", "/api/v1/docs/", "/api/v1/redoc/"])
def test_pages_allow_only_this_servers_scripts(client, page):
    response = client.get(page)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-eval'" not in policy
    # No inline script could run under that policy, so the pages must not need one.
    html = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html) == []


def test_json_answers_forbid_everything(client):
    response = client.get("/api/v1/")
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
