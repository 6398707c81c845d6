"""The park's own metrics on /metrics, beside django-prometheus' request metrics.

Two kinds (docs/deployment, "Metrics"):

- **Read at scrape time** from the database and the broker: tickets sold, check-ins, orders,
  payments, refunds and webhook deliveries by status, the Celery queues' lengths. They are
  the records themselves, so they hold across every instance, worker and restart; every
  instance answers the same values (aggregate them with ``max``, not ``sum``).
- **Counted as they happen** in the web processes: ``busy`` answers (a lock that waited
  ``LOCK_TIMEOUT_SECONDS``, a deadlock broken, a service that found its row taken). Nothing
  records them elsewhere; with several gunicorn workers ``PROMETHEUS_MULTIPROC_DIR`` adds up
  the workers' counts.

A scrape is never a 500: a database or broker that does not answer leaves its metrics out and
says so (``parque_business_metrics_up``, ``parque_celery_broker_up``).
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

BUSY_ANSWERS = Counter(
    "parque_busy_answers",
    "Requests answered 409 busy: a lock waited too long or was taken (retry later).",
    ["view"],
)
BROKER_TIMEOUT_SECONDS = 1.0


def busy_answered(view: str) -> None:
    BUSY_ANSWERS.labels(view=view or "unknown").inc()


def _family(
    factory: Callable[..., Any],
    name: str,
    documentation: str,
    labels: list[str],
    rows: Iterable[dict[str, Any]],
) -> Metric:
    family = factory(name, documentation, labels=labels)
    for row in rows:
        family.add_metric([str(row[label] or "") for label in labels], row["count"])
    return family


def _summed(rows: list[dict[str, Any]], *labels: str) -> list[dict[str, Any]]:
    """``rows`` (each with ``count``) added up by ``labels`` alone."""
    totals: dict[tuple[Any, ...], int] = {}
    for row in rows:
        key = tuple(row[label] for label in labels)
        totals[key] = totals.get(key, 0) + row["count"]
    return [
        {**dict(zip(labels, key, strict=True)), "count": count} for key, count in totals.items()
    ]


def celery_queues() -> list[str]:
    """The queues the workers read: the default one and any a route names."""
    from config.celery import app

    queues = {app.conf.task_default_queue}
    routes = app.conf.task_routes or {}
    if isinstance(routes, dict):
        queues |= {route["queue"] for route in routes.values() if "queue" in route}
    return sorted(queues)


def celery_queue_lengths(broker_url: str, queues: list[str]) -> dict[str, int]:
    """Messages waiting in each queue, asked of the broker (Redis or RabbitMQ) with a short
    timeout. A queue the broker does not know yet holds nothing."""
    from kombu import Connection
    from kombu.exceptions import ChannelError

    lengths = {}
    options = {"socket_timeout": BROKER_TIMEOUT_SECONDS, "socket_connect_timeout": 1}
    with Connection(
        broker_url, connect_timeout=BROKER_TIMEOUT_SECONDS, transport_options=options
    ) as connection:
        connection.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS
        )
        for queue in queues:
            channel = connection.channel()
            try:
                lengths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except ChannelError:
                lengths[queue] = 0
            finally:
                try:
                    channel.close()
                except Exception:  # a channel that failed is closed anyway
                    logger.debug("Closing a broker channel failed", exc_info=True)
    return lengths


class BusinessCollector(Collector):
    """Collected at each scrape (docstring of the module)."""

    def collect(self) -> Iterator[Metric]:
        yield from self._records()
        yield from self._queues()

    def _records(self) -> Iterator[Metric]:
        from apps.business.payments import selectors as payments
        from apps.business.tickets import selectors as tickets

        up = GaugeMetricFamily(
            "parque_business_metrics_up",
            "1 when the database answered the business metrics' queries at this scrape.",
        )
        try:
            ticket_rows = tickets.ticket_counts()
            families = [
                # Tickets are never deleted (a refunded one turns void): the count of all of
                # them only grows, a counter; by status it is a state, a gauge.
                _family(
                    CounterMetricFamily,
                    "parque_tickets_sold",
                    "Tickets ever issued, by sales channel (refunded ones included).",
                    ["channel"],
                    _summed(ticket_rows, "channel"),
                ),
                _family(
                    GaugeMetricFamily,
                    "parque_tickets",
                    "Tickets by sales channel and status (void: its order cancelled or refunded).",
                    ["channel", "status"],
                    ticket_rows,
                ),
                _family(
                    CounterMetricFamily,
                    "parque_check_ins",
                    "Tickets checked in, by gate.",
                    ["gate"],
                    tickets.check_in_counts(),
                ),
                _family(
                    GaugeMetricFamily,
                    "parque_orders",
                    "Orders by status and channel.",
                    ["status", "channel"],
                    payments.order_counts(),
                ),
                _family(
                    GaugeMetricFamily,
                    "parque_payments",
                    "Payments by status and method (failed: the gateway refused it).",
                    ["status", "method"],
                    payments.payment_counts(),
                ),
                _family(
                    GaugeMetricFamily,
                    "parque_refunds",
                    "Refunds by status (failed: finance retries it).",
                    ["status"],
                    payments.refund_counts(),
                ),
                _family(
                    GaugeMetricFamily,
                    "parque_webhook_events",
                    "Gateway webhook deliveries by gateway and status (failed: replay it).",
                    ["gateway", "status"],
                    payments.webhook_event_counts(),
                ),
            ]
        except DatabaseError:
            logger.warning("Business metrics left out: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _queues(self) -> Iterator[Metric]:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return  # no broker: tasks run in the process that sends them, nothing waits
        up = GaugeMetricFamily(
            "parque_celery_broker_up", "1 when the Celery broker answered at this scrape."
        )
        try:
            lengths = celery_queue_lengths(settings.CELERY_BROKER_URL, celery_queues())
        except Exception:  # any transport error: the broker is not answering
            logger.warning(
                "Celery queue lengths left out: the broker did not answer", exc_info=True
            )
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        family = GaugeMetricFamily(
            "parque_celery_queue_length", "Tasks waiting in each Celery queue.", labels=["queue"]
        )
        for queue, length in lengths.items():
            family.add_metric([queue], length)
        yield family


def business_metrics() -> bytes:
    """The business metrics in Prometheus' text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BusinessCollector())
    return generate_latest(registry)
