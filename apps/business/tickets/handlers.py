"""Tickets as an item that payments sells: ``kind = "ticket"`` (registered in apps.py).

Line fields: ``slot`` and ``ticket_type`` (ids) and ``quantity``. Capacity is taken under the
slot rows' locks, once per transaction, in id order (``lock_rows``), after everything that
needs no lock is done.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.business.payments.handlers import LineRequest, PricedLine
from apps.business.payments.models import Order, OrderLine
from apps.support.common import readcache
from apps.support.common.errors import ConflictError, ServiceError
from apps.support.common.locking import lock_compiled, lock_rows, update_locked
from apps.support.common.statements import Compiled, ModelT

from . import errors
from .models import (
    CheckIn,
    Reservation,
    ReservationStatus,
    Ticket,
    TicketStatus,
    TicketType,
    TimeSlot,
)
from .selectors import held_seats

KIND = "ticket"


def _line_id(line: LineRequest, name: str) -> int:
    value = line.fields.get(name)
    if value is None:
        raise ServiceError(
            _("This field is required."),
            code=errors.LINE_FIELD_REQUIRED,
            field=f"lines.{line.index}.{name}",
        )
    return int(value)


def _slot_label(slot: TimeSlot) -> str:
    return formats.date_format(timezone.localtime(slot.starts_at), "DATETIME_FORMAT")


def _sold_out(slot: TimeSlot, remaining: int) -> ConflictError:
    return ConflictError(
        ngettext(
            "Only %(remaining)d place is left at %(slot)s.",
            "Only %(remaining)d places are left at %(slot)s.",
            max(remaining, 0),
        )
        % {"remaining": max(remaining, 0), "slot": _slot_label(slot)},
        code=errors.SOLD_OUT,
    )


def _closed(slot: TimeSlot, field: str | None = None) -> ConflictError:
    return ConflictError(
        _("The park does not admit visitors at %(slot)s.") % {"slot": _slot_label(slot)},
        code=errors.SLOT_CLOSED,
        field=field,
    )


def _ensure_open(slot: TimeSlot, now: datetime, field: str | None = None) -> None:
    if slot.is_closed:
        raise _closed(slot, field)
    if slot.ends_at <= now:
        raise ConflictError(
            _("The slot at %(slot)s is over.") % {"slot": _slot_label(slot)},
            code=errors.SLOT_PAST,
            field=field,
        )


_SLOT = Compiled(lambda pk: TimeSlot.objects.filter(pk=pk))
_SLOT_LOCKED = Compiled(lambda pk: TimeSlot.objects.filter(pk=pk).select_for_update())
_TICKET_TYPE = Compiled(lambda pk: TicketType.objects.filter(pk=pk))
_ORDER_RESERVATIONS = Compiled(lambda order: Reservation.objects.filter(order_id=order))


def _lock_slots(slot_ids: set[int]) -> dict[int, TimeSlot]:
    """The slots, each locked in turn in the order of their keys (as every path locks
    them: no deadlock), by one statement compiled once (an order has a slot or two)."""
    return {
        slot.pk: slot
        for slot_id in sorted(slot_ids)
        for slot in lock_compiled(_SLOT_LOCKED, slot_id)
    }


def _ran_out(reservation: Reservation, now: datetime) -> bool:
    return reservation.status == ReservationStatus.RELEASED or reservation.expires_at <= now


def _ran_out_seats(reservations: Sequence[Reservation], now: datetime) -> dict[int, int]:
    """Seats per slot of the holds that ran out (or were released by the expiry job)."""
    seats: dict[int, int] = defaultdict(int)
    for reservation in reservations:
        if _ran_out(reservation, now):
            seats[reservation.slot_id] += reservation.quantity
    return seats


def _ensure_free(
    slots: dict[int, TimeSlot],
    wanted: dict[int, int],
    now: datetime,
    ours: dict[int, int] | None = None,
) -> None:
    """Each slot has ``wanted`` seats free: its capacity less what is sold (less ``ours``,
    seats of this order already in ``sold``) and what live holds keep. The slots are locked."""
    held = held_seats(slot_ids=list(wanted), now=now)
    for slot_id, seats in wanted.items():
        slot = slots[slot_id]
        sold = slot.sold - (ours or {}).get(slot_id, 0)
        remaining = slot.capacity - sold - held.get(slot_id, 0)
        if seats > remaining:
            raise _sold_out(slot, remaining)


def _by_key(statement: Compiled[ModelT], keys: Sequence[int]) -> dict[int, ModelT]:
    """``in_bulk(keys)`` for the few keys of an order's lines, one compiled statement each."""
    return {row.pk: row for key in dict.fromkeys(keys) for row in statement(key)}


class TicketHandler:
    kind = KIND
    tax_exempt = False
    guest_allowed = False
    money_only_refunds = True

    def price(
        self, *, lines: Sequence[LineRequest], channel: str, now: datetime
    ) -> list[PricedLine]:
        wanted = [(line, _line_id(line, "slot"), _line_id(line, "ticket_type")) for line in lines]
        slots = _by_key(_SLOT, [slot_id for _line, slot_id, _type in wanted])
        types = _by_key(_TICKET_TYPE, [type_id for _line, _slot, type_id in wanted])
        priced = []
        for line, slot_id, type_id in wanted:
            slot, ticket_type = slots.get(slot_id), types.get(type_id)
            prefix = f"lines.{line.index}"
            if slot is None:
                raise ServiceError(
                    _("There is no such time slot."),
                    code=errors.SLOT_NOT_FOUND,
                    field=f"{prefix}.slot",
                )
            _ensure_open(slot, now, f"{prefix}.slot")
            if ticket_type is None or not ticket_type.is_active:
                raise ServiceError(
                    _("This ticket type is not on sale."),
                    code=errors.TICKET_TYPE_NOT_FOUND,
                    field=f"{prefix}.ticket_type",
                )
            if (ticket_type.valid_from and slot.date < ticket_type.valid_from) or (
                ticket_type.valid_until and slot.date > ticket_type.valid_until
            ):
                raise ServiceError(
                    _("This ticket type is not valid on %(date)s.") % {"date": slot.date},
                    code=errors.TICKET_TYPE_NOT_VALID,
                    field=f"{prefix}.ticket_type",
                )
            if line.quantity < ticket_type.min_quantity:
                raise ServiceError(
                    _("%(type)s is sold from %(minimum)d tickets per line.")
                    % {"type": ticket_type.name, "minimum": ticket_type.min_quantity},
                    code=errors.QUANTITY_BELOW_MINIMUM,
                    field=f"{prefix}.quantity",
                )
            if line.quantity > settings.TICKETS_MAX_PER_LINE:
                raise ServiceError(
                    _("At most %(maximum)d tickets per line.")
                    % {"maximum": settings.TICKETS_MAX_PER_LINE},
                    code=errors.QUANTITY_ABOVE_MAXIMUM,
                    field=f"{prefix}.quantity",
                )
            priced.append(
                PricedLine(
                    kind=KIND,
                    description=f"{ticket_type.name} — {_slot_label(slot)}",
                    unit_price=ticket_type.price,
                    currency=ticket_type.currency,
                    quantity=line.quantity,
                    reference={"slot": slot.pk, "ticket_type": ticket_type.pk},
                )
            )
        return priced

    def hold(self, *, order: Order, lines: Sequence[OrderLine]) -> None:
        readcache.changed(readcache.SLOTS)  # availability, once this commits
        wanted: dict[int, int] = defaultdict(int)
        for line in lines:
            wanted[line.reference["slot"]] += line.quantity
        slots = _lock_slots(set(wanted))
        now = timezone.now()  # after the lock: holds that ran out while we waited count as free
        for slot in slots.values():
            _ensure_open(slot, now)
        _ensure_free(slots, wanted, now)
        Reservation.objects.bulk_create(
            [
                Reservation(
                    order=order,
                    slot_id=line.reference["slot"],
                    ticket_type_id=line.reference["ticket_type"],
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    expires_at=order.expires_at,
                )
                for line in lines
            ]
        )

    def paid(self, *, order: Order) -> None:
        readcache.changed(readcache.SLOTS)  # availability, once this commits
        reservations = [
            reservation
            for reservation in _ORDER_RESERVATIONS(order.pk)
            if reservation.status != ReservationStatus.CONFIRMED
        ]
        if not reservations:
            return
        confirmed: dict[int, int] = defaultdict(int)
        for reservation in reservations:
            confirmed[reservation.slot_id] += reservation.quantity
        now = timezone.now()
        if _ran_out_seats(reservations, now):
            self._retake(reservations, confirmed)
        else:
            self._sell_held(reservations, confirmed)
        Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
            status=ReservationStatus.CONFIRMED, updated_at=now
        )
        Ticket.objects.bulk_create(
            [
                Ticket(
                    order=order,
                    reservation=reservation,
                    slot_id=reservation.slot_id,
                    ticket_type_id=reservation.ticket_type_id,
                    price=reservation.unit_price,
                )
                for reservation in reservations
                for _seat in range(reservation.quantity)
            ]
        )
        if order.email:
            from .tasks import send_order_tickets

            order_id = order.pk
            transaction.on_commit(lambda: send_order_tickets.delay(order_id))

    def _sell_held(self, reservations: list[Reservation], confirmed: dict[int, int]) -> None:
        """Live holds: their seats already count against capacity, so each slot's are sold
        by one conditional ``UPDATE``, in the order of the slots' keys (as every path locks
        them). It locks the row, checks the slot as it is once locked (still open, the seats
        still within capacity) and raises ``sold``: one statement where a lock, a read and a
        write were three (docs/adr/0054)."""
        now = timezone.now()
        for slot_id in sorted(confirmed):
            seats = confirmed[slot_id]
            if not update_locked(
                TimeSlot.objects.filter(
                    pk=slot_id,
                    is_closed=False,
                    ends_at__gt=now,
                    # Not ``sold <= capacity - n``: MySQL's unsigned columns refuse a
                    # negative difference (a capacity lowered below the seats) as an error.
                    capacity__gte=F("sold") + seats,
                ),
                sold=F("sold") + seats,
            ):
                # No tickets for a slot that is over or was closed since the seats were held
                # (the payment is refunded), nor past its capacity: a hold that ran out while
                # we waited for the lock, its seats taken.
                (slot,) = _SLOT(slot_id)
                _ensure_open(slot, now)
                if slot.sold + seats > slot.capacity:
                    raise _sold_out(slot, slot.capacity - slot.sold)
                raise _closed(slot)  # closed when it was locked, open again since
        # Everyone who took these slots before us counted a hold live now, after the locks,
        # as held; one that ran out while we waited must find its seats still free.
        now = timezone.now()
        late = _ran_out_seats(reservations, now)
        if late:  # the slots locked above, our seats already in their ``sold``
            _ensure_free(_by_key(_SLOT, list(late)), late, now, ours=confirmed)

    def _retake(self, reservations: list[Reservation], confirmed: dict[int, int]) -> None:
        """Holds that ran out (or were released by the expiry job) take their seats again,
        if still free, under the slots' locks; live holds already count against capacity."""
        slots = _lock_slots(set(confirmed))
        now = timezone.now()  # after the locks
        for slot in slots.values():
            _ensure_open(slot, now)
        _ensure_free(slots, _ran_out_seats(reservations, now), now)
        for slot_id, seats in confirmed.items():
            TimeSlot.objects.filter(pk=slot_id).update(sold=F("sold") + seats)

    def released(self, *, order: Order, reason: str) -> None:
        readcache.changed(readcache.SLOTS)  # availability, once this commits
        """Seats go back without a lock: ``sold`` is lowered with ``F()``; holds just end."""
        reservations = list(
            Reservation.objects.filter(order=order)
            .exclude(status=ReservationStatus.RELEASED)
            .order_by("slot_id", "id")  # rows touched in one order everywhere: no deadlocks
        )
        for reservation in reservations:
            if reservation.status == ReservationStatus.CONFIRMED:
                TimeSlot.objects.filter(pk=reservation.slot_id).update(
                    sold=F("sold") - reservation.quantity
                )
        Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
            status=ReservationStatus.RELEASED, updated_at=timezone.now()
        )
        Ticket.objects.filter(order=order, status=TicketStatus.VALID).update(
            status=TicketStatus.VOID, updated_at=timezone.now()
        )

    def refunded(self, *, order: Order, lines: Sequence[tuple[OrderLine, int]]) -> None:
        readcache.changed(readcache.SLOTS)  # availability, once this commits
        """Void ``quantity`` unused tickets of each line (the newest first) and give their
        seats back. Tickets are locked: a gate admitting one now waits, then finds it void
        (or the refund waits for the admission and voids another, or none)."""
        now = timezone.now()
        for line, quantity in lines:
            matching = Reservation.objects.filter(
                order=order,
                slot_id=line.reference["slot"],
                ticket_type_id=line.reference["ticket_type"],
                status=ReservationStatus.CONFIRMED,
            ).order_by("-id")
            tickets = lock_rows(
                Ticket.objects.filter(reservation__in=matching, status=TicketStatus.VALID)
            )
            used = set(
                CheckIn.objects.filter(ticket__in=tickets).values_list("ticket_id", flat=True)
            )
            void = [t for t in reversed(tickets) if t.pk not in used][:quantity]
            if not void:
                continue
            Ticket.objects.filter(pk__in=[t.pk for t in void]).update(
                status=TicketStatus.VOID, updated_at=now
            )
            per_reservation: dict[int, int] = defaultdict(int)
            for ticket in void:
                per_reservation[ticket.reservation_id] += 1
            for reservation in Reservation.objects.filter(pk__in=per_reservation).order_by("id"):
                seats = per_reservation[reservation.pk]
                TimeSlot.objects.filter(pk=reservation.slot_id).update(sold=F("sold") - seats)
                if seats >= reservation.quantity:
                    reservation.status = ReservationStatus.RELEASED
                else:
                    reservation.quantity -= seats
                reservation.save(update_fields=["status", "quantity", "updated_at"])

    def check_cancellable(self, *, order: Order, now: datetime, by_staff: bool) -> None:
        # Locked: a gate admitting one of them now waits for this cancellation, then finds
        # it void (and a cancellation waits for the admission, then refuses).
        tickets = lock_rows(Ticket.objects.filter(order=order))
        if CheckIn.objects.filter(ticket__in=tickets).exists():
            raise ConflictError(
                _("Tickets of this order were already used at the gate."),
                code=errors.TICKETS_USED,
            )
        first_visit = (
            Reservation.objects.filter(order=order)
            .order_by("slot__starts_at")
            .values_list("slot__starts_at", flat=True)
            .first()
        )
        if by_staff or first_visit is None:
            return
        deadline = first_visit - timedelta(hours=settings.ORDER_CANCELLATION_HOURS)
        if now > deadline:
            raise ConflictError(
                _("Paid tickets can be cancelled until %(hours)d hours before the visit.")
                % {"hours": settings.ORDER_CANCELLATION_HOURS},
                code=errors.CANCELLATION_DEADLINE,
            )
