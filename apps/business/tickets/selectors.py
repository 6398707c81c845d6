"""Reads of the tickets module."""

from datetime import UTC, date, datetime
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .models import (
    CheckIn,
    Closure,
    OpeningSchedule,
    Reservation,
    ReservationStatus,
    Ticket,
    TicketType,
    TimeSlot,
)


def slots_of_day(*, day: date) -> QuerySet[Any]:
    """The slots of the park's ``day`` with ``sold``, ``held`` (unexpired holds) and
    ``checked_in`` (tickets of the slot admitted at a gate) beside ``capacity``: one query."""
    checked_in = (
        CheckIn.objects.filter(ticket__slot=OuterRef("pk"))
        .order_by()
        .values("ticket__slot")
        .annotate(count=Count("id"))
        .values("count")
    )
    return slot_availability(date_from=day, date_to=day).annotate(
        checked_in=Coalesce(Subquery(checked_in, output_field=IntegerField()), Value(0))
    )


def ticket_type_list(*, on_sale_only: bool) -> QuerySet[TicketType]:
    types = TicketType.objects.all()
    if on_sale_only:
        today = timezone.localdate()
        types = types.filter(is_active=True).exclude(valid_until__lt=today)
    return types


def schedule_list() -> QuerySet[OpeningSchedule]:
    return OpeningSchedule.objects.all()


def closure_list() -> QuerySet[Closure]:
    return Closure.objects.all()


_HELD_SEATS_SQL = """
SELECT slot_id, SUM(quantity) FROM tickets_reservation
WHERE slot_id IN ({slots}) AND status = %s AND expires_at > %s
GROUP BY slot_id
"""


def held_seats(*, slot_ids: list[int], now: datetime) -> dict[int, int]:
    """Seats of unexpired holds per slot (what is taken besides ``sold``).

    Written by hand: every purchase reads it under its slot's lock, and the ORM's grouped
    statement cost more to build than to run (docs/adr/0053). Plain SQL that PostgreSQL,
    MySQL/MariaDB and SQLite run; MySQL's ``SUM`` answers a decimal, hence ``int``."""
    if not slot_ids:
        return {}
    sql = _HELD_SEATS_SQL.format(slots=", ".join(["%s"] * len(slot_ids)))
    moment = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*slot_ids, ReservationStatus.HELD, moment])
        return {int(slot_id): int(seats) for slot_id, seats in cursor.fetchall()}


def slot_availability(
    *, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Any]:
    """Slots (of these days) with ``held`` and ``remaining`` seats and ``bookable``, in one
    query (annotations, which callers may filter on: typed ``Any`` for that)."""
    now = timezone.now()
    held = (
        Reservation.objects.filter(
            slot=OuterRef("pk"), status=ReservationStatus.HELD, expires_at__gt=now
        )
        .order_by()
        .values("slot")
        .annotate(seats=Sum("quantity"))
        .values("seats")
    )
    return (
        _in_range(TimeSlot.objects.all(), date_from, date_to)
        .annotate(held=Coalesce(Subquery(held, output_field=IntegerField()), Value(0)))
        .annotate(
            remaining=Greatest(F("capacity") - F("sold") - F("held"), Value(0)),
            bookable=Q(is_closed=False, ends_at__gt=now) & Q(capacity__gt=F("sold") + F("held")),
        )
        .order_by("starts_at")
    )


# The public availability list, written by hand (the same rows as ``slot_availability``): the
# ORM's compiling of the annotated query cost more than PostgreSQL's running it. Plain SQL that
# PostgreSQL, MySQL/MariaDB and SQLite all run: a correlated sum, a window count.
_AVAILABILITY_SQL = """
SELECT s.id, s.date, s.starts_at, s.ends_at, s.capacity, s.sold, s.is_closed,
       COALESCE((SELECT SUM(r.quantity) FROM {reservations} r
                 WHERE r.slot_id = s.id AND r.status = %s AND r.expires_at > %s), 0),
       COUNT(*) OVER ()
FROM {slots} s
WHERE {where}
ORDER BY s.starts_at{page}
"""


def datetime_from_cursor(value: Any) -> datetime:
    """A datetime as a raw cursor gives it: aware (PostgreSQL), naive UTC (MySQL) or text
    (SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def slot_availability_rows(
    *,
    now: datetime,
    date_from: date | None = None,
    date_to: date | None = None,
    start: int = 0,
    size: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """``slot_availability`` as plain rows, in one query: ``size`` of them from ``start`` (or
    all), and how many there are in all."""
    moment = connection.ops.adapt_datetimefield_value(now)
    conditions: list[str] = ["1 = 1"]
    params: list[Any] = [ReservationStatus.HELD, moment]
    if date_from is not None:
        conditions.append("s.date >= %s")
        params.append(connection.ops.adapt_datefield_value(date_from))
    if date_to is not None:
        conditions.append("s.date <= %s")
        params.append(connection.ops.adapt_datefield_value(date_to))
    page = ""
    if size is not None:
        page = " LIMIT %s OFFSET %s"
        params += [size, start]
    sql = _AVAILABILITY_SQL.format(
        reservations=connection.ops.quote_name(Reservation._meta.db_table),
        slots=connection.ops.quote_name(TimeSlot._meta.db_table),
        where=" AND ".join(conditions),
        page=page,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    rows = []
    for slot_id, day, starts_at, ends_at, capacity, sold, is_closed, held, _count in found:
        ends_at, held, is_closed = datetime_from_cursor(ends_at), int(held), bool(is_closed)
        rows.append(
            {
                "id": slot_id,
                "date": date.fromisoformat(day) if isinstance(day, str) else day,
                "starts_at": datetime_from_cursor(starts_at),
                "ends_at": ends_at,
                "capacity": capacity,
                "sold": sold,
                "held": held,
                "remaining": max(capacity - sold - held, 0),
                "is_closed": is_closed,
                "bookable": not is_closed and ends_at > now and capacity > sold + held,
            }
        )
    return rows, found[0][-1] if found else 0


def availability_changes_at(
    *, now: datetime, date_from: date | None = None, date_to: date | None = None
) -> datetime | None:
    """When the availability of these days next changes with no write: the first hold that
    runs out or slot that ends after ``now``."""
    first = _in_range(TimeSlot.objects.all(), date_from, date_to).aggregate(
        end=Min("ends_at", filter=Q(ends_at__gt=now)),
        expiry=Min(
            "reservations__expires_at",
            filter=Q(reservations__status=ReservationStatus.HELD, reservations__expires_at__gt=now),
        ),
    )
    return min((moment for moment in first.values() if moment is not None), default=None)


def _in_range(
    slots: QuerySet[TimeSlot], date_from: date | None, date_to: date | None
) -> QuerySet[TimeSlot]:
    if date_from is not None:
        slots = slots.filter(date__gte=date_from)
    if date_to is not None:
        slots = slots.filter(date__lte=date_to)
    return slots


def ticket_list() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("slot", "ticket_type", "order", "check_in").order_by(
        "slot__starts_at", "id"
    )


def check_in_list() -> QuerySet[CheckIn]:
    return CheckIn.objects.select_related(
        "ticket__slot", "ticket__ticket_type", "checked_in_by"
    ).order_by("-checked_in_at", "-id")


def attendance_by_slot(*, day: date) -> QuerySet[TimeSlot]:
    """Each slot of ``day``: capacity, seats sold, tickets valid and checked in, per gate."""
    return (
        TimeSlot.objects.filter(date=day)
        .annotate(
            checked_in=Count("tickets__check_in", distinct=True),
            tickets_valid=Count("tickets", filter=Q(tickets__status="valid"), distinct=True),
        )
        .order_by("starts_at")
    )


def attendance_by_day(*, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Per day: capacity, seats sold and visitors checked in."""
    slots = (
        TimeSlot.objects.filter(date__gte=date_from, date__lte=date_to)
        .values("date")
        .annotate(capacity=Sum("capacity"), sold=Sum("sold"))
        .order_by("date")
    )
    entered = dict(
        CheckIn.objects.filter(ticket__slot__date__gte=date_from, ticket__slot__date__lte=date_to)
        .values("ticket__slot__date")
        .annotate(count=Count("id"))
        .values_list("ticket__slot__date", "count")
    )
    return [{**row, "checked_in": entered.get(row["date"], 0)} for row in slots]


def check_ins_by_gate(*, day: date) -> list[dict[str, Any]]:
    rows = (
        CheckIn.objects.filter(ticket__slot__date=day)
        .values("gate")
        .annotate(checked_in=Count("id"))
        .order_by("gate")
    )
    return [dict(row) for row in rows]


def ticket_counts() -> list[dict[str, Any]]:
    """Tickets ever issued, by the channel they were sold through and their status (a ticket
    of a cancelled order stays, void): the metrics' tickets sold."""
    rows = (
        Ticket.objects.order_by()
        .values("status", channel=F("order__channel"))
        .annotate(count=Count("id"))
    )
    return [dict(row) for row in rows]


def check_in_counts() -> list[dict[str, Any]]:
    """Check-ins ever accepted, by gate."""
    rows = CheckIn.objects.order_by().values("gate").annotate(count=Count("id"))
    return [dict(row) for row in rows]
