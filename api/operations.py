"""Endpoints for operators, not clients: liveness, readiness and metrics."""

import asyncio
import dataclasses
import datetime
import hmac
import ipaddress
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView
from health_check.base import HealthCheck
from health_check.checks import Database, Storage
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from apps.support.common.http import client_ip

from .metrics import business_metrics


@never_cache
def live(request: HttpRequest) -> JsonResponse:
    """The process answers. Touches nothing else, so a busy database never restarts it."""
    return JsonResponse({"status": "ok"})


@dataclasses.dataclass
class SharedCache(HealthCheck):
    """The cache keeps a value and gives it back. Without it the API still serves (degraded,
    docs/adr/0038): its failures never raise, so a missing value is how one shows."""

    async def run(self) -> None:
        key = f"health:{uuid.uuid4().hex}"
        await cache.aset(key, "ok", timeout=5)
        if await cache.aget(key) != "ok":
            raise ServiceUnavailable("Unreachable: serving without the cache")
        await cache.adelete(key)


@dataclasses.dataclass
class CeleryBroker(HealthCheck):
    """The Celery broker accepts a connection (checked only when one is configured)."""

    timeout: datetime.timedelta = dataclasses.field(
        default=datetime.timedelta(seconds=3), repr=False
    )

    def run(self) -> None:
        from config.celery import app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(
                    max_retries=1, interval_start=0, timeout=self.timeout.total_seconds()
                )
        except Exception as error:
            raise ServiceUnavailable("Broker unreachable") from error


class ReadyView(HealthCheckView):
    """Database, cache, storage and (when configured) the Celery broker.

    ``{"status": "ok"|"degraded"|"unavailable", "checks": {"database": {"status": "ok", "ms":
    1.2}, ...}}``: 503 when the instance cannot serve (database, storage, broker down); 200
    ``degraded`` when only the cache is down, since requests are served without it (taking
    every instance out of the load balancer would turn a cache outage into a full one).
    """

    DEGRADED_WITHOUT = frozenset({"cache"})

    def named_checks(self) -> dict[str, HealthCheck]:
        checks: dict[str, HealthCheck] = {
            "database": Database(),
            "cache": SharedCache(),
            "storage": Storage(),
        }
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            checks["celery_broker"] = CeleryBroker()
        return checks

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        named = self.named_checks()
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in named.values())
            )
        checks: dict[str, dict[str, Any]] = {}
        for name, result in zip(named, results, strict=True):
            checks[name] = {
                "status": "ok" if result.error is None else "unavailable",
                "ms": round(result.time_taken * 1000, 1),
            }
            if result.error is not None:
                checks[name]["error"] = str(result.error)
        down = {name for name, check in checks.items() if check["status"] != "ok"}
        state = "ok" if not down else "degraded" if down <= self.DEGRADED_WITHOUT else "unavailable"
        return JsonResponse(
            {"status": state, "checks": checks}, status=503 if state == "unavailable" else 200
        )


def _client_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    # The address the trusted proxies saw, not the proxy's own: behind a proxy on this host,
    # REMOTE_ADDR is 127.0.0.1 for every visitor on the internet.
    try:
        client = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(
        client in ipaddress.ip_network(allowed, strict=False)
        for allowed in settings.METRICS_ALLOWED_IPS
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for a bearer of METRICS_TOKEN or a client in METRICS_ALLOWED_IPS.

    Everyone else gets 404: the endpoint does not advertise itself.
    """
    if not _client_allowed(request):
        raise Http404
    response = ExportToDjangoView(request)
    # The park's own, read at this scrape (api.metrics); their names never meet
    # django-prometheus' ones.
    response.content = response.content + business_metrics()
    return response
