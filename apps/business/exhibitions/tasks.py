"""Background work of the exhibitions module."""

from dataclasses import asdict

from celery import shared_task

from . import services


@shared_task(name="exhibitions.publish_scheduled")
def publish_scheduled() -> dict[str, int]:
    """Catch the rows up with scheduled publications and unpublications that have come due.

    Tidying only: the API already shows what is live at the time of each request. Safe to run
    twice at once: each exhibition is taken under its row lock (skipped when in use) and
    re-read first.
    """
    return asdict(services.publish_scheduled())
