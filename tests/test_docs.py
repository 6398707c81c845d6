"""OpenAPI schema and its two documentation pages, usable with no internet."""

import re
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]


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


# Lists answered whole, as docs/api/README.md ("Lists") says; every other list is paginated.
BARE_LISTS = {
    "/api/v1/wildlife/conservation-statuses/",
    "/api/v1/payments/gateways/",
}


def test_every_list_is_paginated_but_the_documented_enumerations(api_client):
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    bare = {
        path
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method == "get"
        for status, response in operation["responses"].items()
        if status.startswith("2")
        and response.get("content", {}).get("application/json", {}).get("schema", {}).get("type")
        == "array"
    }
    assert bare == BARE_LISTS
    conventions = (ROOT / "docs" / "api" / "README.md").read_text()
    for path in BARE_LISTS:
        assert f"`GET {path}`" in conventions


def test_the_schema_describes_only_what_is_built(api_client):
    """The documents module is installed but has no endpoint: the description must not offer
    it; the modules that are built are named."""
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    description = schema["info"]["description"].lower()
    assert not any(path.startswith("/api/v1/documents") for path in schema["paths"])
    assert "document" not in description
    for built in ("education", "exhibitions", "donations", "invoices", "tickets", "animal"):
        assert built in description
    assert "accept-language: en" in description
