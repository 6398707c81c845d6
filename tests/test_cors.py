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


def allowed_headers(client, path: str, method: str, headers: str) -> set[str]:
    """What a browser's preflight from the park's site is told it may send."""
    response = client.options(
        path,
        HTTP_ORIGIN="https://www.parque.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )
    return {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}


def test_a_front_end_may_send_the_headers_of_orders(client, settings):
    """A browser asks first (preflight) whether it may send Idempotency-Key and a guest's
    X-Order-Token from the park's site to the API."""
    settings.CORS_ALLOWED_ORIGINS = ["https://www.parque.example.org"]
    allowed = allowed_headers(
        client,
        "/api/v1/payments/orders/1/pay/",
        "POST",
        "idempotency-key, x-order-token, content-type",
    )
    assert {"idempotency-key", "x-order-token", "content-type"} <= allowed


def test_a_front_end_may_revalidate_public_reads(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://www.parque.example.org"]
    assert "if-none-match" in allowed_headers(
        client, "/api/v1/tickets/slots/", "GET", "if-none-match"
    )
    read = client.get("/api/v1/tickets/slots/", HTTP_ORIGIN="https://www.parque.example.org")
    assert read.status_code == 200
    exposed = {h.strip() for h in read["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "X-Cache", "Idempotent-Replayed"} <= exposed
    assert "ETag" in read
