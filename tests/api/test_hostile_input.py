"""Hostile input found by an outside test round: each answer is a 4xx in the one error shape,
whatever DEBUG says, and nothing is written."""

import json
from urllib.parse import urlencode

import pytest
from django.db import OperationalError
from django.http import HttpResponseNotAllowed
from django.test import Client
from django.urls import path
from django.utils import translation

from api.middleware import json_nesting_exceeds
from apps.business.infrastructure.models import WaterReading
from apps.business.payments.models import Order, WebhookEvent
from apps.business.wildlife.models import Species
from apps.support.security.models import User
from apps.support.security.roles import Role
from config import urls as root_urls
from tests.api.test_errors import assert_error
from tests.factories import HabitatFactory, SpeciesFactory
from tests.helpers import client_for, staff_member

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/payments/orders/"
SPECIES = "/api/v1/wildlife/species/"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("path", "anonymous"),
    [
        ("/api/v1/auth/token/", True),
        ("/api/v1/auth/register/", True),
        ("/api/v1/payments/webhooks/sandbox/", True),
        (ORDERS, False),
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_json_nested_1000_levels_is_a_parse_error_before_any_parser_runs(
    user, settings, path, anonymous, debug, caplog
):
    settings.DEBUG = debug
    client = Client() if anonymous else client_for(user)
    body = '{"lines": ' + nested(1000) + "}"
    with translation.override("en"):  # this thread's last request was in English; this isn't
        response = client.post(path, body, content_type="application/json")
    answer = assert_error(response, 400, "parse_error")
    assert answer["message"] == "Error de análisis JSON: anidado a más de 64 niveles."
    assert [record for record in caplog.records if record.levelname == "ERROR"] == []
    english = client.post(path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["message"] == "JSON parse error: nested deeper than 64 levels."
    assert (Order.objects.count(), WebhookEvent.objects.count(), User.objects.count()) == (
        0,
        0,
        1,
    )


def test_json_nesting_is_counted_outside_strings_only():
    assert json_nesting_exceeds(nested(64).encode(), 64) is False
    assert json_nesting_exceeds(nested(65).encode(), 64) is True
    assert json_nesting_exceeds(json.dumps({"note": "[" * 500}).encode(), 64) is False
    escaped = json.dumps({"note": '\\"' + "{" * 100}).encode()
    assert json_nesting_exceeds(escaped, 64) is False
    assert json_nesting_exceeds(b"[" * 30 + b'"]]]"' + b"[" * 40, 64) is True


def test_the_deepest_allowed_body_is_parsed_and_validated_as_usual(user):
    response = client_for(user).post(
        ORDERS, '{"lines": ' + nested(63) + "}", content_type="application/json"
    )
    assert_error(response, 400, "validation_error", [("lines.0", "invalid")])


@pytest.mark.parametrize("debug", [False, True])
def test_a_nul_in_a_path_segment_is_404(api_client, settings, debug):
    settings.DEBUG = debug
    assert api_client.get("/api/v1/wildlife/conservation-statuses/EN/").status_code == 200
    response = api_client.get("/api/v1/wildlife/conservation-statuses/E%00N/")
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("debug", [False, True])
def test_a_host_not_allowed_is_json_without_the_settings(api_client, settings, debug):
    settings.DEBUG = debug
    settings.DATABASE_URL = "postgres://parque:hunter2-secret@db.internal/parque"
    response = api_client.get("/api/v1/", HTTP_HOST="evil.example")
    body = assert_error(response, 400, "disallowed_host")
    assert "hunter2" not in response.content.decode()
    assert "DATABASE_URL" not in response.content.decode()
    assert body["message"] == "Este servidor no responde por el Host que nombra la solicitud."


def test_a_chunked_body_without_content_length_is_refused_not_read_as_empty(user):
    response = client_for(user).generic(
        "POST",
        ORDERS,
        b"",
        content_type="application/json",
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert_error(response, 411, "length_required")
    assert Order.objects.count() == 0


def html_error(request):
    """A layer that answers an HTML error page under /api/ (as Django's own pages do)."""
    response = HttpResponseNotAllowed(["GET"], "<h1>Not allowed</h1>")
    response["Retry-After"] = "7"
    return response


def database_down(request):
    raise OperationalError("connection failed: FATAL:  sorry, too many clients already")


urlpatterns = [
    path("api/v1/html-error/", html_error),
    path("api/v1/database-down/", database_down),
    *root_urls.urlpatterns,
]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
def test_a_database_that_does_not_answer_is_503_with_retry_after(api_client, settings, debug):
    settings.DEBUG = debug
    api_client.raise_request_exception = False
    response = api_client.get("/api/v1/database-down/")
    body = assert_error(response, 503, "service_unavailable")
    assert body["message"] == "El servicio no está disponible por un momento; intente de nuevo."
    assert response["Retry-After"] == "5"
    assert "too many clients" not in response.content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
def test_an_html_error_of_an_inner_layer_leaves_as_json(api_client, settings, debug):
    settings.DEBUG = debug
    response = api_client.post("/api/v1/html-error/")
    body = assert_error(response, 405, "method_not_allowed")
    assert body["message"] == "Método no permitido."
    assert (response["Allow"], response["Retry-After"]) == ("GET", "7")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/token/", {"email": "ana@example.org", "password": "x" * 12}),
        (
            "/api/v1/auth/register/",
            {"email": "new@example.org", "password": "a-long-passphrase-1", "first_name": "N"},
        ),
        ("/api/v1/auth/password/reset/", {"email": "ana@example.org"}),
    ],
)
@pytest.mark.parametrize("encoding", ["multipart", "form"])
def test_auth_takes_json_only(api_client, path, body, encoding):
    if encoding == "form":
        response = api_client.post(
            path, urlencode(body), content_type="application/x-www-form-urlencoded"
        )
    else:
        response = api_client.post(path, body, format="multipart")
    assert_error(response, 415, "unsupported_media_type")
    assert User.objects.filter(email="new@example.org").count() == 0


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_nul_in_a_lookup_field_of_a_body_is_a_field_error(method):
    """A species' conservation status is looked up by its code: a NUL reached PostgreSQL."""
    curator = client_for(staff_member(Role.CURATOR))
    species = SpeciesFactory()
    body = {
        "common_name_es": "Tortuga verde",
        "common_name_en": "Green turtle",
        "scientific_name": "Chelonia mydas",
        "taxon_class": "Reptilia",
        "taxon_order": "Testudines",
        "family": "Cheloniidae",
        "conservation_status": "E\x00N",
    }
    path = SPECIES if method == "post" else f"{SPECIES}{species.pk}/"
    response = getattr(curator, method)(path, body, format="json")
    assert_error(
        response, 400, "validation_error", [("conservation_status", "null_characters_not_allowed")]
    )
    assert Species.objects.count() == 1
    species.refresh_from_db()
    assert species.conservation_status.code == "LC"


def test_a_nul_in_a_query_parameter_is_a_field_error(api_client):
    response = api_client.get(SPECIES, {"conservation_status": "E\x00N", "family": "ok"})
    assert_error(
        response, 400, "validation_error", [("conservation_status", "null_characters_not_allowed")]
    )
    response = api_client.get(SPECIES + "?fam%00ily=x")
    assert_error(response, 400, "validation_error", [("fam\x00ily", "null_characters_not_allowed")])


@pytest.mark.parametrize(
    ("taken_at", "status"),
    [
        ("0224-06-26T21:46:22.42Z", 400),
        ("1899-12-31T23:59:59Z", 400),
        ("1900-01-01T00:00:00Z", 201),
    ],
)
def test_a_date_time_before_1900_is_refused_not_written_with_an_offset_in_seconds(taken_at, status):
    """Before 1921 Costa Rica's local time was -05:36:13, which RFC 3339 cannot write."""
    aquarist = client_for(staff_member(Role.AQUARIST))
    habitat = HabitatFactory()
    response = aquarist.post(
        "/api/v1/infrastructure/water-readings/",
        {"habitat": habitat.pk, "taken_at": taken_at, "nitrate": "1.00"},
        format="json",
    )
    assert response.status_code == status, response.json()
    if status == 400:
        assert_error(response, 400, "validation_error", [("taken_at", "too_early")])
        assert WaterReading.objects.count() == 0
    else:
        # Local mean time then: written in UTC rather than with a -05:36:13 offset.
        assert response.json()["taken_at"] == "1900-01-01T00:00:00Z"
