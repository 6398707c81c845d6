"""The home page at / : what this is and where its parts are, in the request's language."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

LINKS = [
    "/static/site/home.css",
    "/api/v1/",
    "/api/v1/docs/",
    "/api/v1/redoc/",
    "/admin/",
    "/cms/",
    "/health/live/",
    "/health/ready/",
]


def links(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_home_page_links_every_entry_point(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert links(html) == LINKS
    assert finders.find("site/home.css")
    # Under the pages' Content-Security-Policy: no script, no inline style.
    assert "<script" not in html
    assert "<style" not in html
    assert " style=" not in html
    assert response["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            [
                '<html lang="en">',
                '<a href="/api/v1/">API root</a>',
                '<a href="/admin/">Back office</a>',
                '<a href="/cms/">Editors\' screen</a>',
                '<a href="/health/ready/">Ready</a>',
                "The version of the API and the links to its documentation.",
            ],
        ),
        (
            "es",
            [
                '<html lang="es">',
                '<a href="/api/v1/">Raíz de la API</a>',
                '<a href="/admin/">Administración</a>',
                '<a href="/cms/">Pantalla de edición</a>',
                '<a href="/health/ready/">Listo</a>',
                "La versión de la API y los enlaces a su documentación.",
            ],
        ),
    ],
)
def test_home_page_speaks_the_request_language(client, language, texts):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    html = response.content.decode()
    assert [text for text in texts if text not in html] == []


def test_home_page_is_spanish_without_accept_language(client):
    html = client.get("/").content.decode()
    assert '<html lang="es">' in html


@pytest.mark.django_db
def test_home_page_reads_nothing_from_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200


def test_the_back_office_view_site_link_leads_home(back_office, administrator):
    administrator.preferred_language = "en"
    administrator.save(update_fields=["preferred_language"])
    response = back_office.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<a href="/">View site</a>' in html


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "trace"])
def test_home_page_is_read_only(method):
    """Only GET and HEAD: a write is 405 with ``Allow`` (not a CSRF failure page), and OPTIONS
    or TRACE do not answer the page."""
    response = getattr(Client(enforce_csrf_checks=True), method)("/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_home_page_answers_head():
    response = Client().head("/")
    assert response.status_code == 200
    assert response.content == b""
