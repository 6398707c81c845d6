from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.business.payments.models import WebhookEvent, WebhookStatus
from apps.business.payments.services import webhook_event_process


class Command(BaseCommand):
    help = "Process stored gateway webhooks again: the failed ones, or those named by id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="WebhookEvent ids (default: failed)")

    def handle(self, *args: Any, **options: Any) -> None:
        events = WebhookEvent.objects.order_by("received_at", "id")
        if options["ids"]:
            events = events.filter(pk__in=options["ids"])
        else:
            events = events.filter(status__in=[WebhookStatus.FAILED, WebhookStatus.RECEIVED])
        for event in events:
            event = webhook_event_process(event=event)
            self.stdout.write(f"{event.pk} {event.event_type}: {event.status} {event.last_error}")
