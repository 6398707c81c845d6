from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "apps.business.tickets"
    label = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from apps.business.payments.handlers import register_item_handler
        from apps.support.audit.registry import audit_register
        from apps.support.common import readcache

        from .handlers import TicketHandler
        from .models import Closure, OpeningSchedule, Reservation, TicketType, TimeSlot

        register_item_handler(TicketHandler())
        # Catalogue rows, written outside any slot lock. Sales, holds, tickets and check-ins
        # are recorded by their services' own entries (after the slot locks: lock order).
        audit_register(TicketType)
        audit_register(OpeningSchedule)
        # Availability. Sales, holds and closures also write with UPDATE and bulk inserts
        # (no signal): the handlers and services say so themselves.
        readcache.watch(readcache.SLOTS, TimeSlot, Reservation, Closure)
