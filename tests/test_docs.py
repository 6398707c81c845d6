"""OpenAPI schema and its two documentation pages, usable with no internet."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_generates_without_warnings_and_validates(tmp_path):
    output = tmp_path / "schema.yaml"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--api-version", "v1", "--file", str(output)
    )
    schema = yaml.safe_load(output.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/" in schema["paths"]


def test_schema_is_served_and_documents_the_error_shape(api_client):
    response = api_client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "errors", "message", "request_id"]
    root = schema["paths"]["/api/v1/"]["get"]
    assert root["operationId"] == "api_root"
    assert root["responses"]["429"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_load_every_asset_from_this_server(api_client, page):
    response = api_client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, "the page references its scripts and styles"
    assert [url for url in urls if url.startswith(("http:", "https:", "//"))] == []
    for url in urls:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
