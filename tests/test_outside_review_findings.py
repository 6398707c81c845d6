"""Findings of the outside test round after "Hardening from an outside test round".

Each test states the behaviour the code should have and is marked ``xfail(strict=True)``: it
fails today (the finding), and the day the code is fixed it passes, which fails the suite until
the marker is removed. The last test passes today: it pins a promise (ADR 20) that a mutation
broke without any test noticing.
"""

import contextlib
import json
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from apps.business.payments import services as payments
from apps.business.payments.models import Order, OrderStatus, WebhookEvent
from apps.business.tickets import services as tickets
from apps.business.tickets.models import OpeningSchedule, TimeSlot
from apps.business.tickets.services import PLANNING_HORIZON_DAYS
from apps.integrations.payments.sandbox import SIGNATURE_HEADER, sign
from apps.support.common.errors import ServiceError
from apps.support.security.models import User
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.helpers import bearer
from tests.payments.conftest import post_webhook
from tests.payments.test_orders_expire import LockHolder
from tests.sales import place_order, run_out_hold

pytestmark = pytest.mark.django_db

finding = pytest.mark.xfail(strict=True, reason="finding of the outside test round")


@pytest.fixture
def slot():
    return TimeSlotFactory(capacity=4)


@pytest.fixture
def adult():
    return TicketTypeFactory(code="adult")


def error_code(response) -> tuple[int, str]:
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()["code"]


# --- 1. A lone surrogate in a JSON key or value: 500 on every JSON endpoint ---------------


@finding
def test_a_lone_surrogate_naming_an_unknown_field_is_a_400_not_a_500():
    client = Client(raise_request_exception=False)
    response = client.post(
        "/api/v1/auth/token/", b'{"\\ud800": 1}', content_type="application/json"
    )
    assert error_code(response) == (400, "validation_error")


@finding
def test_a_lone_surrogate_as_an_order_line_s_kind_is_a_400_not_a_500(user):
    client = Client(raise_request_exception=False, headers=bearer(user))
    body = b'{"lines": [{"kind": "\\ud800", "slot": 1, "ticket_type": 1, "quantity": 1}]}'
    response = client.post("/api/v1/payments/orders/", body, content_type="application/json")
    assert error_code(response) == (400, "validation_error")
    assert Order.objects.count() == 0


# --- 2. The nesting guard reads bytes, the parser reads the declared charset --------------


@finding
@pytest.mark.parametrize("charset", ["cp500", "utf-16-le"])
def test_json_nested_deep_in_another_charset_is_refused_before_parsing(charset):
    text = "[" * 5000 + "]" * 5000
    if charset == "utf-16-le":
        # U+2200 encodes as 00 22: a lone quote byte that hides the brackets from the scanner.
        text = '["\u2200", ' + text + ', "x"]'
    client = Client(raise_request_exception=False)
    # The test client encodes a str body in the charset the Content-Type names.
    response = client.post(
        "/api/v1/auth/token/", text, content_type=f"application/json; charset={charset}"
    )
    assert error_code(response) == (400, "parse_error")


# --- 3. A signed webhook in UTF-16: json.loads reads it, PostgreSQL refuses its NULs -------


@finding
@pytest.mark.skipif(connection.vendor != "postgresql", reason="NUL bytes in text: PostgreSQL")
def test_a_signed_utf16_webhook_is_refused_not_a_500():
    body = json.dumps({"id": "evt_utf16", "type": "payment.succeeded", "payment": "x"})
    raw = body.encode("utf-16")
    secret = django_settings.PAYMENTS_SANDBOX_WEBHOOK_SECRET
    delivery = {"body": raw, "headers": {SIGNATURE_HEADER: sign(secret, raw, int(time.time()))}}
    response = post_webhook(Client(raise_request_exception=False), delivery)
    assert error_code(response) == (400, "webhook_rejected")
    assert WebhookEvent.objects.count() == 0


# --- 4. Back office: an administrator (not a superuser) takes over a superuser ------------


@finding
def test_an_administrator_cannot_set_a_superuser_s_password(client, administrator):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(administrator)
    url = f"/admin/security/user/{superuser.pk}/password/"
    response = client.post(
        url,
        {
            "password1": "Taken-over-123456",
            "password2": "Taken-over-123456",
            "usable_password": "true",
        },
    )
    superuser.refresh_from_db()
    assert not superuser.check_password("Taken-over-123456")
    assert response.status_code == 403


# --- 5. Back office: a password set there leaves the user's sessions alive ----------------


@finding
def test_a_password_set_in_the_back_office_revokes_the_user_s_refresh_tokens(client, administrator):
    member = UserFactory()
    refresh = str(RefreshToken.for_user(member))
    client.force_login(administrator)
    changed = client.post(
        f"/admin/security/user/{member.pk}/password/",
        {
            "password1": "New-password-123456",
            "password2": "New-password-123456",
            "usable_password": "true",
        },
    )
    assert changed.status_code == 302
    response = Client().post(
        "/api/v1/auth/token/refresh/", {"refresh": refresh}, content_type="application/json"
    )
    assert response.status_code == 401


# --- 6. /metrics behind a proxy: an unusable X-Forwarded-For falls back to the proxy -------


@finding
@pytest.mark.parametrize("forwarded", ["", "garbage", "10.9.9.9:8080", "[2001:db8::1]"])
def test_metrics_behind_a_proxy_refuse_a_client_address_they_cannot_read(
    client, settings, forwarded
):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]  # the scraper beside the proxy
    settings.TRUSTED_PROXY_COUNT = 1
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 404


# --- 7. Slot generation plans past the ten-year horizon that closures keep -----------------


@finding
def test_slots_are_never_generated_on_days_that_cannot_be_closed(administrator):
    """`closures/` refuses a day past today + PLANNING_HORIZON_DAYS (date_too_far); slots
    generated from the last plannable day run 365 days past it, on sale and unclosable."""

    today = timezone.localdate()
    OpeningSchedule.objects.create(
        name="all week",
        valid_from=today,
        weekdays=[0, 1, 2, 3, 4, 5, 6],
        opens_at="09:00",
        closes_at="10:00",
        slot_minutes=60,
        capacity_per_slot=10,
    )
    last = today + timedelta(days=PLANNING_HORIZON_DAYS)
    # Refusing the range is one fix, generating only up to the horizon another.
    with contextlib.suppress(ServiceError):
        tickets.slots_generate(start=last, days=30, actor=administrator)
    beyond = TimeSlot.objects.filter(date__gt=last)
    assert list(beyond.values_list("date", flat=True)) == []


# --- 8. ADR 20: the expiry job never waits for a lock (passes today; pins the promise) ----


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks held elsewhere")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_expiry_job_skips_an_order_in_use_without_waiting_for_its_lock(user, slot, adult):
    """Without SKIP LOCKED the job waits LOCK_TIMEOUT_SECONDS (3 s), then skips the order all
    the same: the other expiry tests still pass. Only the time tells the two apart."""
    busy = place_order(user, slot, adult)
    run_out_hold(busy)
    lock = lambda: list(Order.objects.select_for_update().filter(pk=busy.pk))  # noqa: E731
    with LockHolder(lock):
        started = time.monotonic()
        run = payments.orders_expire()
        waited = time.monotonic() - started
    assert run == payments.ExpiryRun(expired=0, skipped=1)
    assert waited < django_settings.LOCK_TIMEOUT_SECONDS / 2
    busy.refresh_from_db()
    assert busy.status == OrderStatus.PENDING
    assert User.objects.count() == 1
