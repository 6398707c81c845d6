"""Background work of the exhibitions module."""

from celery import shared_task

from . import services


@shared_task(name="exhibitions.publish_scheduled")
def publish_scheduled() -> int:
    """Catch the rows up with scheduled publications and unpublications that have come due.

    Tidying only: the API already shows what is live at the time of each request. Safe to run
    twice at once: each exhibition is handled under its row lock and re-read first.
    """
    return services.publish_scheduled()
