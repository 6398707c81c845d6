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


def test_a_front_end_may_send_the_headers_of_orders(client, settings):
    """A browser asks first (preflight) whether it may send Idempotency-Key and a guest's
    X-Order-Token from the park's site to the API."""
    settings.CORS_ALLOWED_ORIGINS = ["https://www.parque.example.org"]
    response = client.options(
        "/api/v1/payments/orders/1/pay/",
        HTTP_ORIGIN="https://www.parque.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="idempotency-key, x-order-token, content-type",
    )
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"idempotency-key", "x-order-token", "content-type"} <= allowed


def test_a_front_end_may_revalidate_public_reads(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://www.parque.example.org"]
    preflight = client.options(
        "/api/v1/tickets/slots/",
        HTTP_ORIGIN="https://www.parque.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match",
    )
    allowed = {h.strip() for h in preflight["Access-Control-Allow-Headers"].split(",")}
    assert "if-none-match" in allowed
    read = client.get("/api/v1/tickets/slots/", HTTP_ORIGIN="https://www.parque.example.org")
    assert read.status_code == 200
    exposed = {h.strip() for h in read["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "X-Cache", "Idempotent-Replayed"} <= exposed
    assert "ETag" in read
