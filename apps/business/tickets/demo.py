"""Demo data: the park's ticket prices in colones, its opening hours (Tuesday to Sunday,
09:00-16:30, 1,275 visitors a day), four weeks of slots, and a few paid orders made through
the real services (two online by the demo visitor, one at the ticket office counter).

Whatever day and hour it runs, the visitor-and-gate story can be walked: the park opens
specially that whole day (``DEMO_OPENING_NAME``, 00:00-23:30, even on a Monday or a holiday),
and the demo visitor's family comes today at the next entry time, one of them already through
the gate."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.business.payments import services as payments
from apps.business.payments.handlers import LineRequest
from apps.business.payments.models import Channel, Order, PaymentMethod
from apps.support.common.demo import DemoContext, demo_step
from apps.support.security.models import User

from . import selectors, services
from .models import CheckIn, Closure, OpeningSchedule, Ticket, TicketType, TimeSlot
from .signing import ticket_code

SLOT_DAYS = 28

# code, name es, name en, description es, description en, price (CRC), minimum per line
TICKET_TYPES = [
    (
        "adult",
        "Adulto nacional",
        "Adult (national)",
        "Costarricenses y residentes de 12 a 59 años.",
        "Costa Ricans and residents aged 12 to 59.",
        "2900.00",
        1,
    ),
    (
        "child",
        "Niño o niña (4 a 11 años)",
        "Child (4 to 11)",
        "Niñas y niños de 4 a 11 años.",
        "Children aged 4 to 11.",
        "1600.00",
        1,
    ),
    (
        "senior-disability",
        "Adulto mayor o persona con discapacidad",
        "Senior (60+) or person with a disability",
        "Personas de 60 años o más y personas con discapacidad.",
        "Visitors aged 60 or over and visitors with a disability.",
        "700.00",
        1,
    ),
    (
        "group-11",
        "Grupo de más de 10 adultos",
        "Group of more than 10 adults",
        "Precio por persona para grupos de 11 a 20 adultos.",
        "Price per person for groups of 11 to 20 adults.",
        "2400.00",
        11,
    ),
    (
        "group-21",
        "Grupo de más de 20 adultos",
        "Group of more than 20 adults",
        "Precio por persona para grupos de 21 adultos o más.",
        "Price per person for groups of 21 adults or more.",
        "2150.00",
        21,
    ),
    (
        "adult-foreign",
        "Adulto extranjero",
        "Adult (foreign visitor)",
        "Visitantes extranjeros de 12 años o más.",
        "Foreign visitors aged 12 or over.",
        "9500.00",
        1,
    ),
]

SCHEDULE_NAME = "Horario regular"
SLOT_MINUTES = 30
CAPACITY_PER_SLOT = 85  # 15 slots a day: 1,275 visitors
# The day seed_demo runs, the park opens all day long (a schedule valid that day only, moved to
# the new day by a later run): the story can be tried on a Monday, a holiday, or at night.
DEMO_OPENING_NAME = "Apertura especial de demostración"
DEMO_OPENING_HOURS = (time(0, 0), time(23, 30))
# Holidays the park closes, as (month, day, reason).
HOLIDAYS = [(12, 25, "Cierre por Navidad"), (1, 1, "Cierre por Año Nuevo")]
GATE = "Entrada principal"


@demo_step(order=40, name="tickets.ticket_types")
def create_ticket_types(context: DemoContext) -> None:
    for position, (code, name_es, name_en, text_es, text_en, price, minimum) in enumerate(
        TICKET_TYPES, start=1
    ):
        TicketType.objects.update_or_create(
            code=code,
            defaults={
                "name_es": name_es,
                "name_en": name_en,
                "description_es": text_es,
                "description_en": text_en,
                "price": Decimal(price),
                "currency": "CRC",
                "min_quantity": minimum,
                "is_active": True,
                "display_order": position,
            },
        )


def _next(today: date, month: int, day: int) -> date:
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


@demo_step(order=41, name="tickets.schedule_and_slots")
def create_schedule_and_slots(context: DemoContext) -> None:
    today = timezone.localdate()
    office = User.objects.get(email="tickets@parquemarino.test")
    hours = {
        "valid_until": None,
        "weekdays": [1, 2, 3, 4, 5, 6],  # Tuesday to Sunday
        "opens_at": time(9, 0),
        "closes_at": time(16, 30),
        "slot_minutes": SLOT_MINUTES,
        "capacity_per_slot": CAPACITY_PER_SLOT,
    }
    OpeningSchedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults=hours,
        # Kept from the first run, so that running again another day changes nothing.
        create_defaults={**hours, "valid_from": today - timedelta(days=30)},
    )
    opens_at, closes_at = DEMO_OPENING_HOURS
    OpeningSchedule.objects.update_or_create(
        name=DEMO_OPENING_NAME,
        defaults={
            "valid_from": today,
            "valid_until": today,
            "weekdays": [0, 1, 2, 3, 4, 5, 6],
            "opens_at": opens_at,
            "closes_at": closes_at,
            "slot_minutes": SLOT_MINUTES,
            "capacity_per_slot": CAPACITY_PER_SLOT,
        },
    )
    # The special opening wins over a holiday the demo closed on an earlier run.
    holiday_reasons = [reason for _month, _day, reason in HOLIDAYS]
    for closure in Closure.objects.filter(date=today, reason__in=holiday_reasons):
        services.closure_delete(actor=office, closure=closure)
    last_day = today + timedelta(days=SLOT_DAYS - 1)
    for month, day, reason in HOLIDAYS:
        holiday = _next(today, month, day)
        if today < holiday <= last_day and not Closure.objects.filter(date=holiday).exists():
            services.closure_create(actor=office, day=holiday, reason=reason)
    services.slots_generate(start=today, days=SLOT_DAYS)


def _open_days() -> list[list[TimeSlot]]:
    """The slots still on sale, grouped by day, soonest first."""
    days: dict[date, list[TimeSlot]] = {}
    for slot in TimeSlot.objects.filter(is_closed=False, ends_at__gt=timezone.now()).order_by(
        "starts_at"
    ):
        days.setdefault(slot.date, []).append(slot)
    return list(days.values())


def _line(slot: TimeSlot, ticket_type: TicketType, quantity: int, index: int) -> LineRequest:
    return LineRequest(
        kind="ticket",
        quantity=quantity,
        fields={"slot": slot.pk, "ticket_type": ticket_type.pk},
        index=index,
    )


@demo_step(order=42, name="tickets.orders")
def create_orders(context: DemoContext) -> None:
    visitor = User.objects.get(email="visitor@parquemarino.test")
    office = User.objects.get(email="tickets@parquemarino.test")
    types = {ticket_type.code: ticket_type for ticket_type in TicketType.objects.all()}
    today = timezone.localdate()
    days = _open_days()
    later_days = [slots for slots in days if slots[0].date > today]

    if not Order.objects.filter(user=visitor).exists() and later_days:
        # A group of 12 adults on the next open day at 09:00 (the visitor's family comes
        # today: ``visit_today``).
        group = payments.order_create(
            actor=visitor, lines=[_line(later_days[0][0], types["group-11"], 12, 0)]
        )
        payments.order_pay(order=group, actor=visitor, method=PaymentMethod.SANDBOX)

    if not Order.objects.filter(channel=Channel.COUNTER, created_by=office).exists() and days:
        # Walk-ins at the ticket office, for the first entry time still open.
        slot = days[0][0]
        counter = payments.order_create(
            actor=office,
            channel=Channel.COUNTER,
            lines=[
                _line(slot, types["adult"], 2, 0),
                _line(slot, types["senior-disability"], 1, 1),
            ],
        )
        payments.order_pay(order=counter, actor=office, method=PaymentMethod.CASH)


def _entry_slot(today: date, now: datetime, seats: int) -> TimeSlot | None:
    """The latest slot of today the gate already admits (its start minus the check-in grace
    has come) that is still on sale with ``seats`` free: the next entry time, else the current."""
    grace = timedelta(minutes=settings.TICKETS_CHECK_IN_GRACE_MINUTES)
    return (
        selectors.slot_availability(date_from=today, date_to=today)
        .filter(is_closed=False, ends_at__gt=now, starts_at__lte=now + grace, remaining__gte=seats)
        .order_by("-starts_at")
        .first()
    )


@demo_step(order=42, name="tickets.visit_today")
def visit_today(context: DemoContext) -> None:
    """The demo visitor's family (two adults, one child) comes today: bought online, paid, and
    one parent already scanned at the gate; the other two tickets wait for the reader to check
    them in. Once a day: running again the same day leaves it as it is."""
    visitor = User.objects.get(email="visitor@parquemarino.test")
    today = timezone.localdate()
    # Known by the parent let in at the demo's gate (the group of an earlier run may come today).
    family = (
        Order.objects.filter(user=visitor, tickets__slot__date=today, tickets__check_in__gate=GATE)
        .order_by("pk")
        .first()
    )
    if family is None:
        slot = _entry_slot(today, timezone.now(), seats=3)
        if slot is None:  # after the last entry time of the day
            context.notes.append(_("No entry time is left today: run seed_demo again tomorrow."))
            return
        types = {ticket_type.code: ticket_type for ticket_type in TicketType.objects.all()}
        family = payments.order_create(
            actor=visitor,
            lines=[_line(slot, types["adult"], 2, 0), _line(slot, types["child"], 1, 1)],
        )
        payments.order_pay(order=family, actor=visitor, method=PaymentMethod.SANDBOX)
        first = Ticket.objects.filter(order=family).order_by("pk")[0]
        services.ticket_check_in(
            code=ticket_code(first.secret),
            gate=GATE,
            actor=User.objects.get(email="gate@parquemarino.test"),
        )
    tickets = list(Ticket.objects.filter(order=family).select_related("slot").order_by("pk"))
    entered = set(CheckIn.objects.filter(ticket__in=tickets).values_list("ticket_id", flat=True))
    context.notes.append(
        _(
            "Today's visit of visitor@parquemarino.test: order %(order)d (%(code)s), "
            "entry at %(time)s, tickets %(tickets)s; checked in: %(entered)s."
        )
        % {
            "order": family.pk,
            "code": family.code,
            "time": timezone.localtime(tickets[0].slot.starts_at).strftime("%H:%M"),
            "tickets": ", ".join(str(ticket.pk) for ticket in tickets),
            "entered": ", ".join(str(pk) for pk in sorted(entered)) or "-",
        }
    )
