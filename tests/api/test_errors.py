"""Bad input gets a 4xx in the one error shape, and nothing is written."""

import json
import logging

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client, override_settings
from rest_framework.exceptions import ErrorDetail

from api.errors import _flatten
from api.views import csrf_failure
from tests.api.urls import custom_groups
from tests.helpers import bearer

pytestmark = [pytest.mark.urls("tests.api.urls"), pytest.mark.django_db]

GROUPS = "/api/v1/groups/"


@pytest.fixture
def writer(user):
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="auth", codename__in=["add_group", "change_group", "view_group"]
        )
    )
    return user


@pytest.fixture
def writer_client(api_client, writer):
    api_client.credentials(HTTP_AUTHORIZATION=bearer(writer)["Authorization"])
    return api_client


def assert_error(response, status, code, errors=()):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "message", "errors", "request_id"}
    assert body["code"] == code
    assert body["message"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == list(errors)
    assert body["request_id"] == response["X-Request-ID"]
    return body


def test_malformed_json_is_400_and_writes_nothing(writer_client):
    response = writer_client.post(
        GROUPS, data='{"name": "Aquarists",', content_type="application/json"
    )
    assert_error(response, 400, "parse_error")
    assert custom_groups().count() == 0


def test_wrong_content_type_is_415(writer_client):
    response = writer_client.post(GROUPS, data="name=Aquarists", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    assert custom_groups().count() == 0


def test_unknown_field_is_rejected_by_name(writer_client):
    response = writer_client.post(GROUPS, {"name": "Aquarists", "colour": "blue"}, format="json")
    body = assert_error(response, 400, "validation_error", [("colour", "unknown_field")])
    assert body["errors"][0]["message"] == "Campo desconocido."  # the park's default: Spanish
    assert custom_groups().count() == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": 12}, [("name", "incorrect_type")]),  # DRF alone would store "12"
        ({"name": True}, [("name", "incorrect_type")]),
        ({"name": "Aquarists", "note": ["x"]}, [("note", "incorrect_type")]),
    ],
)
def test_json_values_of_the_wrong_type_are_refused(writer_client, body, errors):
    response = writer_client.post(GROUPS, body, format="json")
    body = assert_error(response, 400, "validation_error", errors)
    assert body["errors"][0]["message"] == "Debe ser una cadena de texto."
    assert custom_groups().count() == 0


@pytest.mark.parametrize(
    ("items", "errors"),
    [
        ([{"quantity": "2"}], [("items.0.quantity", "incorrect_type")]),
        ([{"quantity": 2.0}], [("items.0.quantity", "incorrect_type")]),
        ([{"quantity": True}], [("items.0.quantity", "incorrect_type")]),
    ],
)
def test_nested_json_values_of_the_wrong_type_are_refused(writer_client, items, errors):
    response = writer_client.post(GROUPS + "basket/", {"items": items}, format="json")
    body = assert_error(response, 400, "validation_error", errors)
    assert body["errors"][0]["message"] == "Debe ser un número entero."


def test_form_values_are_text_and_stay_accepted(writer_client):
    response = writer_client.post(GROUPS, {"name": "12"})  # multipart: every value is text
    assert response.status_code == 201
    assert custom_groups().get().name == "12"


def test_read_only_field_echoed_back_is_ignored(writer_client):
    response = writer_client.post(GROUPS, {"name": "Aquarists", "note": "x"}, format="json")
    assert response.status_code == 201
    assert response.json() == {"id": custom_groups().get().pk, "name": "Aquarists"}


def test_field_errors_name_every_field(writer_client):
    response = writer_client.post(GROUPS, {"note": "x" * 21}, format="json")
    assert_error(response, 400, "validation_error", [("name", "required"), ("note", "max_length")])


def test_nested_field_errors_use_dotted_paths(writer_client):
    response = writer_client.post(
        GROUPS + "basket/", {"items": [{"quantity": 2}, {"quantity": 0}, {}]}, format="json"
    )
    assert_error(
        response,
        400,
        "validation_error",
        [("items.1.quantity", "min_value"), ("items.2.quantity", "required")],
    )


def test_flatten_puts_body_errors_on_a_null_field():
    detail = {"non_field_errors": [ErrorDetail("Dates overlap.", code="overlap")]}
    assert list(_flatten(detail)) == [
        {"field": None, "code": "overlap", "message": "Dates overlap."}
    ]


@override_settings(API_MAX_BODY_BYTES=100)
def test_oversized_body_is_413_and_writes_nothing(writer_client):
    response = writer_client.post(GROUPS, {"name": "A" * 200}, format="json")
    assert_error(response, 413, "payload_too_large")
    assert custom_groups().count() == 0


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_route_under_api_is_json_404(api_client, settings, debug):
    settings.DEBUG = debug
    response = api_client.get("/api/v1/no-such-thing/")
    assert_error(response, 404, "not_found")
    response = api_client.get("/api/v2/")
    assert_error(response, 404, "not_found")


def test_post_to_unknown_route_is_404_not_a_csrf_page():
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/no-such-thing/", data="{bad", content_type="application/json"
    )
    assert_error(response, 404, "not_found")


def test_csrf_failure_under_api_is_in_the_error_shape(rf):
    request = rf.post("/api/v1/groups/")
    request.request_id = "csrf-1"
    response = csrf_failure(request, reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert json.loads(response.content) == {
        "code": "csrf_failed",
        "message": "Falló la verificación CSRF: CSRF cookie not set.",
        "errors": [],
        "request_id": "csrf-1",
    }


def test_unknown_route_outside_api_is_not_json(api_client):
    response = api_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_unknown_method_is_405(admin_client):
    response = admin_client.delete(GROUPS)
    assert_error(response, 405, "method_not_allowed")


def test_missing_object_is_404(writer_client):
    response = writer_client.patch(GROUPS + "999/", {"name": "x"}, format="json")
    assert_error(response, 404, "not_found")


def test_anonymous_write_is_401_and_writes_nothing(api_client):
    response = api_client.post(GROUPS, {"name": "Aquarists"}, format="json")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert custom_groups().count() == 0


def test_invalid_token_is_401_with_the_token_code(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api_client.get(GROUPS)
    assert_error(response, 401, "token_not_valid")


def test_write_without_permission_is_403_and_writes_nothing(api_client, user):
    api_client.credentials(HTTP_AUTHORIZATION=bearer(user)["Authorization"])
    response = api_client.post(GROUPS, {"name": "Aquarists"}, format="json")
    assert_error(response, 403, "permission_denied")
    assert custom_groups().count() == 0


def test_service_conflict_is_409_with_retry_after(writer_client):
    Group.objects.create(name="Aquarists")
    response = writer_client.post(GROUPS, {"name": "Aquarists"}, format="json")
    body = assert_error(response, 409, "group_exists")
    assert body["message"] == "A group with this name exists."
    assert response["Retry-After"] == "5"
    assert custom_groups().count() == 1


@pytest.mark.parametrize("debug", [False, True])
def test_crash_is_json_500_and_logged_with_request_id(api_client, settings, caplog, debug):
    settings.DEBUG = debug
    api_client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="parque_marino.api"):
        response = api_client.get(GROUPS + "crash/", HTTP_X_REQUEST_ID="crash-1")
    body = assert_error(response, 500, "server_error")
    assert body["request_id"] == "crash-1"
    assert "boom" not in json.dumps(body)
    assert [r.exc_info[1].args for r in caplog.records if r.exc_info] == [("boom",)]


@pytest.mark.parametrize(
    ("language", "message", "field_message"),
    [
        ("es", "La solicitud tiene campos no válidos.", "Este campo es requerido."),
        ("en", "The request has invalid fields.", "This field is required."),
    ],
)
def test_error_messages_follow_the_request_language(
    writer_client, language, message, field_message
):
    response = writer_client.post(GROUPS, {}, format="json", HTTP_ACCEPT_LANGUAGE=language)
    body = response.json()
    assert (body["message"], body["errors"][0]["message"]) == (message, field_message)
