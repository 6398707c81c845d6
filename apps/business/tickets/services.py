"""Writes of the tickets module: prices, the opening schedule and its slots, check-in.

Selling and cancelling go through payments' order services, which call ``TicketHandler``.
"""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.business.payments.models import Order
from apps.support.audit import services as audit
from apps.support.common import readcache
from apps.support.common.errors import ConflictError, NotFoundError, ServiceError
from apps.support.common.locking import ModelT, lock_rows
from apps.support.common.services import model_create, model_update
from apps.support.common.statements import Insert
from apps.support.security.models import User

from . import errors
from .models import (
    CheckIn,
    Closure,
    OpeningSchedule,
    Ticket,
    TicketStatus,
    TicketType,
    TimeSlot,
)
from .selectors import datetime_from_cursor, held_seats
from .signing import secret_from_code

MAX_GENERATE_DAYS = 366
# How far ahead closures and slots may be planned; past days cannot be planned at all.
PLANNING_HORIZON_YEARS = 10


def planning_horizon(today: date) -> date:
    """The last day that may be planned: the same day ten years on (28 February for 29)."""
    year = today.year + PLANNING_HORIZON_YEARS
    try:
        return today.replace(year=year)
    except ValueError:
        return today.replace(year=year, day=28)


def plannable_day_check(day: date, *, field: str) -> None:
    """Closures and slots are for today up to ten years ahead: a slot is never on sale on a
    day that could not be closed."""
    today = timezone.localdate()
    if day < today:
        raise ServiceError(
            _("%(date)s has passed; only today and later days can be planned.")
            % {"date": day.isoformat()},
            code=errors.DATE_PASSED,
            field=field,
        )
    if day > planning_horizon(today):
        raise ServiceError(
            _("The park plans at most ten years ahead."), code=errors.DATE_TOO_FAR, field=field
        )


# --- Catalogue ------------------------------------------------------------------------


TICKET_TYPE_FIELDS = (
    "code",
    "name_es",
    "name_en",
    "description_es",
    "description_en",
    "price",
    "currency",
    "min_quantity",
    "is_active",
    "valid_from",
    "valid_until",
    "display_order",
)
SCHEDULE_FIELDS = (
    "name",
    "valid_from",
    "valid_until",
    "weekdays",
    "opens_at",
    "closes_at",
    "slot_minutes",
    "capacity_per_slot",
)


def ticket_type_create(*, data: Mapping[str, Any]) -> TicketType:
    return model_create(model=TicketType, fields=TICKET_TYPE_FIELDS, data=data)


def ticket_type_update(*, ticket_type: TicketType, data: Mapping[str, Any]) -> TicketType:
    """Tickets already sold keep the price they were charged."""
    return model_update(instance=ticket_type, fields=TICKET_TYPE_FIELDS, data=data)[0]


def schedule_create(*, data: Mapping[str, Any]) -> OpeningSchedule:
    return model_create(model=OpeningSchedule, fields=SCHEDULE_FIELDS, data=data)


def schedule_update(*, schedule: OpeningSchedule, data: Mapping[str, Any]) -> OpeningSchedule:
    """Slots already generated keep their times and capacity; the schedule shapes new ones."""
    return model_update(instance=schedule, fields=SCHEDULE_FIELDS, data=data)[0]


def schedule_delete(*, schedule: OpeningSchedule) -> None:
    """Slots already generated stay; the schedule only shapes future generation."""
    with transaction.atomic():
        schedule.delete()


def closure_create(*, actor: User, day: date, reason: str) -> Closure:
    """Close the park on ``day``: its slots stop selling (tickets already sold stay valid,
    for the ticket office to contact their buyers)."""
    plannable_day_check(day, field="date")
    with transaction.atomic():
        closure = Closure(date=day, reason=reason)
        closure.full_clean()
        open_slots = TimeSlot.objects.filter(date=day, is_closed=False)
        closure.closed_slot_ids = sorted(open_slots.values_list("pk", flat=True))
        closure.save()
        closed = TimeSlot.objects.filter(pk__in=closure.closed_slot_ids).update(
            is_closed=True, updated_at=timezone.now()
        )
        audit.record(
            action="tickets.closure.created",
            actor=actor,
            target=closure,
            metadata={"date": day, "reason": reason, "slots_closed": closed},
        )
    return closure


def closure_delete(*, actor: User, closure: Closure) -> None:
    with transaction.atomic():
        TimeSlot.objects.filter(pk__in=closure.closed_slot_ids, is_closed=True).update(
            is_closed=False, updated_at=timezone.now()
        )
        audit.record(
            action="tickets.closure.deleted",
            actor=actor,
            target=closure,
            metadata={"date": closure.date},
        )
        closure.delete()


# --- Slots ------------------------------------------------------------------------------


def _schedule_for(day: date, schedules: list[OpeningSchedule]) -> OpeningSchedule | None:
    for schedule in schedules:  # newest valid_from first
        if schedule.valid_from <= day and (
            schedule.valid_until is None or day <= schedule.valid_until
        ):
            return schedule if day.weekday() in schedule.weekdays else None
    return None


def _slot_times(day: date, schedule: OpeningSchedule) -> list[tuple[datetime, datetime]]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, schedule.opens_at, tzinfo=zone)
    closes = datetime.combine(day, schedule.closes_at, tzinfo=zone)
    step = timedelta(minutes=schedule.slot_minutes)
    times = []
    while start + step <= closes:
        times.append((start, start + step))
        start += step
    return times


def slots_generate(*, start: date, days: int, actor: Any = None) -> int:
    """Create the slots of ``days`` days from ``start`` from the opening schedules; returns
    how many were new. Idempotent: existing slots (and their sales) are left as they are;
    closure days get none."""
    if not 1 <= days <= MAX_GENERATE_DAYS:
        raise ServiceError(
            _("Generate between 1 and %(max)d days at a time.") % {"max": MAX_GENERATE_DAYS},
            code=errors.RANGE_TOO_LONG,
            field="days",
        )
    plannable_day_check(start, field="start")
    end = start + timedelta(days=days - 1)
    plannable_day_check(end, field="days")
    schedules = list(
        OpeningSchedule.objects.filter(valid_from__lte=end).order_by("-valid_from", "-id")
    )
    closed_days = set(
        Closure.objects.filter(date__gte=start, date__lte=end).values_list("date", flat=True)
    )
    existing = set(
        TimeSlot.objects.filter(date__gte=start, date__lte=end).values_list("starts_at", flat=True)
    )
    new_slots = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        schedule = _schedule_for(day, schedules)
        if schedule is None or day in closed_days:
            continue
        for starts_at, ends_at in _slot_times(day, schedule):
            if starts_at not in existing:
                new_slots.append(
                    TimeSlot(
                        date=day,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        capacity=schedule.capacity_per_slot,
                    )
                )
    in_range = TimeSlot.objects.filter(date__gte=start, date__lte=end)
    with transaction.atomic():
        before = in_range.count()
        # A concurrent run may have inserted some of them: count what this one added.
        TimeSlot.objects.bulk_create(new_slots, ignore_conflicts=True)
        created = in_range.count() - before
        if created:
            readcache.changed(readcache.SLOTS)
            audit.record(
                action="tickets.slots.generated",
                actor=actor if actor is not None else audit.SYSTEM,
                target_type="tickets.timeslot",
                metadata={"from": start, "to": end, "created": created},
            )
    return created


def slot_update(
    *, slot: TimeSlot, actor: User, capacity: int | None = None, is_closed: bool | None = None
) -> TimeSlot:
    """Change one slot's capacity (never below the seats taken) or close/reopen it."""
    with transaction.atomic():
        slot = lock_rows(TimeSlot.objects.filter(pk=slot.pk))[0]
        changes: dict[str, list[Any]] = {}
        if capacity is not None and capacity != slot.capacity:
            taken = slot.sold + held_seats(slot_ids=[slot.pk], now=timezone.now()).get(slot.pk, 0)
            if capacity < taken:
                raise ConflictError(
                    _("%(taken)d places of this slot are sold or held; capacity cannot go below.")
                    % {"taken": taken},
                    code=errors.CAPACITY_BELOW_TAKEN,
                    field="capacity",
                )
            changes["capacity"] = [slot.capacity, capacity]
            slot.capacity = capacity
        if is_closed is not None and is_closed != slot.is_closed:
            changes["is_closed"] = [slot.is_closed, is_closed]
            slot.is_closed = is_closed
        if changes:
            slot.save(update_fields=[*changes, "updated_at"])
            audit.record(action="tickets.slot.changed", actor=actor, target=slot, changes=changes)
    return slot


# --- Check-in ---------------------------------------------------------------------------


_CHECK_IN = Insert(CheckIn)  # its INSERT compiled once (docs/adr/0054)

_ADMISSION_SQL = """
SELECT t.id, t.secret, t.status, t.order_id, t.slot_id, t.ticket_type_id,
       s.date, s.starts_at, s.ends_at, o.code, tt.name_es, tt.name_en,
       c.checked_in_at, c.gate
FROM tickets_ticket t
JOIN tickets_timeslot s ON s.id = t.slot_id
JOIN payments_order o ON o.id = t.order_id
JOIN tickets_tickettype tt ON tt.id = t.ticket_type_id
LEFT JOIN tickets_checkin c ON c.ticket_id = t.id
WHERE t.{key} = %s{lock}
"""


def _ticket_locked(secret: str) -> tuple[Ticket, CheckIn | None] | None:
    """The ticket of ``secret``, locked until the transaction ends, with what admitting it
    reads of its slot, order and type (only those fields: the others are deferred), and its
    check-in if it had one when the statement began (its time and gate).

    Written by hand: it runs on every scan, and the ORM's statement joining four tables cost
    more to build than to run. Where the database can lock the ticket's row alone in a join
    (PostgreSQL, MySQL: ``FOR UPDATE OF``), one statement; elsewhere (MariaDB, whose lock
    would take the joined rows too, the slot's among them) the ticket's row is locked first.
    The joined rows are read as the statement began: they do not change under this lock in a
    way admitting depends on (lock_rows' ``with_related``).
    """
    params: list[Any] = [secret]
    if connection.features.has_select_for_update_of:
        sql = _ADMISSION_SQL.format(key="secret", lock=" FOR UPDATE OF t")
    else:
        locked = lock_rows(Ticket.objects.filter(secret=secret).only("pk"))
        if not locked:
            return None
        sql, params = _ADMISSION_SQL.format(key="id", lock=""), [locked[0].pk]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    ticket_id, _secret, status, order_id, slot_id, type_id, day, starts_at, ends_at = row[:9]
    order_code, name_es, name_en, checked_in_at, gate = row[9:]
    ticket = _read(
        Ticket,
        id=ticket_id,
        secret=secret,
        status=status,
        order_id=order_id,
        slot_id=slot_id,
        ticket_type_id=type_id,
    )
    ticket.slot = _read(
        TimeSlot,
        id=slot_id,
        date=date.fromisoformat(day) if isinstance(day, str) else day,
        starts_at=datetime_from_cursor(starts_at),
        ends_at=datetime_from_cursor(ends_at),
    )
    ticket.order = _read(Order, id=order_id, code=order_code)
    ticket.ticket_type = _read(TicketType, id=type_id, name_es=name_es, name_en=name_en)
    if checked_in_at is None:
        return ticket, None
    return ticket, _read(
        CheckIn, ticket_id=ticket_id, checked_in_at=datetime_from_cursor(checked_in_at), gate=gate
    )


def _read(model: type[ModelT], **values: Any) -> ModelT:
    """An instance of ``model`` as the ORM would load one with only these fields (the others
    deferred: read from the database if ever used)."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def ticket_check_in(*, code: str, gate: str, actor: User, now: datetime | None = None) -> CheckIn:
    """Admit the ticket behind ``code`` once, within its day and slot (plus the grace).

    Two gates scanning the same ticket at once: the ticket's row lock lets one in; the other
    sees the first check-in, or (when the statement that took the lock read the ticket's
    check-ins before it waited for the lock, as PostgreSQL's does) the one-to-one constraint
    refuses its own, and the check-in that won is read after the rollback.
    """
    secret = secret_from_code(code)
    if secret is None:
        raise ServiceError(
            _("This is not a Parque Marino ticket code."), code=errors.INVALID_CODE, field="code"
        )
    try:
        with transaction.atomic():
            found = _ticket_locked(secret)
            if found is None:
                raise NotFoundError(_("No ticket has this code."), code=errors.UNKNOWN_TICKET)
            ticket, first = found
            if first is not None:
                raise _already_used(first)
            now = now or timezone.now()
            if ticket.status != TicketStatus.VALID:
                raise ConflictError(_("This ticket was cancelled."), code=errors.TICKET_VOID)
            _ensure_entry_time(ticket.slot, now)
            try:
                check_in = _CHECK_IN(
                    {"ticket": ticket, "gate": gate, "checked_in_at": now, "checked_in_by": actor}
                )
            except IntegrityError as error:
                # Nothing else is read or written: the refusal rolls the whole transaction back.
                raise _AdmittedMeanwhile(ticket.pk) from error
            audit.record(
                action="tickets.ticket.checked_in",
                actor=actor,
                target=ticket,
                metadata={"gate": gate, "slot": ticket.slot.pk},
            )
    except _AdmittedMeanwhile as meanwhile:
        first = CheckIn.objects.filter(ticket_id=meanwhile.ticket_id).first()
        if first is None:  # gone again: only the refusal is known
            raise ConflictError(_("Already used."), code=errors.ALREADY_CHECKED_IN) from meanwhile
        raise _already_used(first) from meanwhile
    return check_in


class _AdmittedMeanwhile(Exception):
    """Another gate's check-in of the ticket committed while this one waited for the lock."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id


def _already_used(first: CheckIn) -> ConflictError:
    at = timezone.localtime(first.checked_in_at)
    return ConflictError(
        _("Already used at %(time)s at %(gate)s.")
        % {"time": at.strftime("%H:%M:%S"), "gate": first.gate},
        code=errors.ALREADY_CHECKED_IN,
        details={"checked_in_at": at.isoformat(), "gate": first.gate},
    )


def _ensure_entry_time(slot: TimeSlot, now: datetime) -> None:
    """Refuse a scan on another day than the slot's, or outside its hours and the grace."""
    grace = timedelta(minutes=settings.TICKETS_CHECK_IN_GRACE_MINUTES)
    slot_details = {
        "slot_starts_at": timezone.localtime(slot.starts_at).isoformat(),
        "slot_ends_at": timezone.localtime(slot.ends_at).isoformat(),
    }
    if slot.date != timezone.localdate(now):
        raise ConflictError(
            _("This ticket is for %(date)s.") % {"date": slot.date.isoformat()},
            code=errors.WRONG_DAY,
            details=slot_details,
        )
    if now < slot.starts_at - grace:
        raise ConflictError(
            _("Too early: entry from %(time)s.")
            % {"time": timezone.localtime(slot.starts_at - grace).strftime("%H:%M")},
            code=errors.TOO_EARLY,
            details=slot_details,
        )
    if now > slot.ends_at + grace:
        raise ConflictError(
            _("The entry time of this ticket ended at %(time)s.")
            % {"time": timezone.localtime(slot.ends_at + grace).strftime("%H:%M")},
            code=errors.SLOT_ENDED,
            details=slot_details,
        )
