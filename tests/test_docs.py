"""OpenAPI schema and its two documentation pages, usable with no internet."""

import gzip
import json
import re
from pathlib import Path

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

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


def test_the_schema_describes_what_is_built(api_client):
    """The description names every module that has endpoints, documents included."""
    schema = api_client.get("/api/v1/schema/", {"format": "json"}).json()
    description = schema["info"]["description"].lower()
    assert any(path.startswith("/api/v1/documents/") for path in schema["paths"])
    for built in (
        "education",
        "exhibitions",
        "donations",
        "invoices",
        "tickets",
        "animal",
        "documents",
    ):
        assert built in description
    assert "accept-language: en" in description


# What makes a browser fetch an address: an element's src (in HTML or a script building one)
# and a style sheet's url(...). Links (href of <a>) are only followed when clicked.
FETCHED = re.compile(r"""(?:\bsrc\s*[:=]\s*|\burl\(\s*)["'`]?((?:https?:)?//[^"'`)\s]+)""")


def outside(url: str) -> bool:
    return url.startswith(("http:", "https:", "//")) and not url.startswith("http://testserver/")


def served(api_client, url: str) -> str:
    if url.startswith("/static/"):
        return Path(finders.find(url.removeprefix("/static/").split("?")[0])).read_text()
    response = api_client.get(url)
    assert response.status_code == 200, url
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Encoding") == "gzip":
        content = gzip.decompress(content)
    return content.decode()


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_and_what_they_load_fetch_nothing_from_another_site(api_client, page):
    html = served(api_client, page)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert [url for url in assets if outside(url)] == []
    fetched = FETCHED.findall(html)
    for url in assets:
        if not url.split("?")[0].endswith((".png", ".ico")):  # pictures fetch nothing more
            fetched += FETCHED.findall(served(api_client, url))
    assert [url for url in fetched if outside(url)] == []


def test_the_check_above_sees_what_redoc_fetches_by_itself():
    """The sidecar's bundle as published fetches the Redocly logo: the one thing replaced."""
    bundle = Path(finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"))
    assert FETCHED.findall(bundle.read_text()) == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]


def test_swagger_ui_has_no_online_validator(api_client):
    """Swagger UI would show a badge from validator.swagger.io, sending it the schema's address."""
    script = served(api_client, "/api/v1/docs/?script=")
    settings = re.search(r"const swaggerSettings = (\{.*?\});", script, re.DOTALL)
    assert settings is not None
    assert json.loads(settings.group(1)) == {"deepLinking": True, "validatorUrl": "none"}


def test_redoc_bundle_is_cached_and_compressed(api_client):
    response = api_client.get("/api/v1/redoc/redoc.standalone.js", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Content-Encoding"] == "gzip"
    assert response["Cache-Control"] == "public, max-age=86400"
    again = api_client.get("/api/v1/redoc/redoc.standalone.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    bundle = gzip.decompress(response.content).decode()
    source_map = "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js.map"
    assert bundle.endswith(f"\n//# sourceMappingURL={source_map}")
    assert finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js.map")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "trace"])
def test_redoc_bundle_answers_other_methods_405_not_a_csrf_failure(method):
    """The bundle is read only: a write is 405 with ``Allow``, not 403 ``csrf_failed`` ("CSRF
    cookie not set", which would send a client looking for a token it does not need)."""
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/api/v1/redoc/redoc.standalone.js")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["code"] == "method_not_allowed"
