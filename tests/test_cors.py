import pytest

pytestmark = pytest.mark.django_db


def test_configured_origin_may_call_the_api(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://www.parque.example.org"]
    response = client.get("/api/v1/", HTTP_ORIGIN="https://www.parque.example.org")
    assert response["Access-Control-Allow-Origin"] == "https://www.parque.example.org"
    assert "X-Request-ID" in response["Access-Control-Expose-Headers"]


def test_other_origin_gets_no_cors_header(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://www.parque.example.org"]
    response = client.get("/api/v1/", HTTP_ORIGIN="https://evil.example.com")
    assert "Access-Control-Allow-Origin" not in response
