"""Behind proxies, /metrics goes by the address the proxy saw, and an unreadable one is nobody's."""

import pytest

pytestmark = pytest.mark.django_db


# --- A lone surrogate in a JSON key or value: 500 on every JSON endpoint ---------------


@pytest.mark.parametrize("forwarded", ["", "garbage", "10.9.9.9:8080", "[2001:db8::1]"])
def test_metrics_behind_a_proxy_refuse_a_client_address_they_cannot_read(
    client, settings, forwarded
):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]  # the scraper beside the proxy
    settings.TRUSTED_PROXY_COUNT = 1
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 404
