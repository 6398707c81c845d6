"""The database side of bench/tickets.py, run with the benchmark's environment:

    python -m bench.tickets_db seed|tokens|issue|verify|profile ...

Each command prints one JSON object on its last line of output.
"""

import argparse
import json
import random
import re
import signal
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import django

VISITOR_EMAIL = "visitor{:04d}@bench.parque-marino.test"
GATE_EMAIL = "gate@bench.parque-marino.test"


def seed(options: argparse.Namespace) -> dict[str, Any]:
    """One ticket type and, all today and open now, the slots each path writes to on its own
    (so each path's rows can be checked against its answers): the hot slot (the API's
    purchases), the scarce slot, the baseline's hot slot (its purchases), the gate slot (the
    API's check-ins), the baseline's gate slot and the probe slot (the one-request probe and
    the answers' shape checks); 15 more of today; visitors and a member of the gate staff."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from apps.business.tickets.models import TicketType, TimeSlot
    from apps.support.security.models import User
    from apps.support.security.roles import Role

    now = timezone.now().replace(microsecond=0)
    today = timezone.localdate(now)
    ticket_type = TicketType.objects.create(
        code="bench-adult", name_es="Adulto (bench)", name_en="Adult (bench)", price=Decimal(2900)
    )
    # Open now (check-in accepts them) and long enough for every phase; one second apart
    # (starts_at is unique).
    capacities = {
        "hot_slot": options.hot_capacity,
        "scarce_slot": options.scarce_capacity,
        "baseline_slot": options.hot_capacity,
        "gate_slot": options.hot_capacity,
        "baseline_gate_slot": options.hot_capacity,
        "probe_slot": 1000,
    }
    slots = {}
    for n, (name, capacity) in enumerate(capacities.items()):
        slots[name] = TimeSlot.objects.create(
            date=today,
            starts_at=now - timedelta(minutes=10, seconds=-n),
            ends_at=now + timedelta(hours=6),
            capacity=capacity,
        ).pk
    taken = set(TimeSlot.objects.filter(date=today).values_list("starts_at", flat=True))
    first = timezone.make_aware(datetime.combine(today, datetime.min.time())) + timedelta(hours=6)
    for n in range(15):
        starts_at = first + timedelta(minutes=45 * n)
        while starts_at in taken:
            starts_at += timedelta(seconds=1)
        TimeSlot.objects.create(
            date=today,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=45),
            capacity=300,
            sold=(n * 37) % 300,
            is_closed=n == 4,
        )
    visitors = [
        User.objects.create_user(email=VISITOR_EMAIL.format(n), password=None).pk
        for n in range(options.visitors)
    ]
    gate = User.objects.create_user(email=GATE_EMAIL, password=None)
    gate.groups.add(Group.objects.get(name=Role.GATE_STAFF))
    return {
        "date": today.isoformat(),
        "ticket_type": ticket_type.pk,
        **slots,
        "slots": TimeSlot.objects.filter(date=today).count(),
        "visitors": len(visitors),
    }


def tokens(options: argparse.Namespace) -> dict[str, Any]:
    """Fresh access tokens (production caps them at 15 minutes): one per visitor, and the
    gate's."""
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.support.security.models import User

    visitors = User.objects.filter(email__endswith="@bench.parque-marino.test").exclude(
        email=GATE_EMAIL
    )
    return {
        "visitors": [str(AccessToken.for_user(user)) for user in visitors.order_by("email")],
        "gate": str(AccessToken.for_user(User.objects.get(email=GATE_EMAIL))),
    }


def issue(options: argparse.Namespace) -> dict[str, Any]:
    """For each ``--plan SLOT:COUNT:FILE``: ``COUNT`` paid tickets for the slot through the
    order services (create, then pay with the sandbox), and the codes of every unused ticket
    of the slot, shuffled, in ``FILE``."""
    from django.conf import settings

    from apps.business.payments import services
    from apps.business.payments.handlers import LineRequest
    from apps.business.payments.models import PaymentMethod
    from apps.business.tickets.models import Ticket, TicketStatus
    from apps.business.tickets.signing import ticket_code
    from apps.support.security.models import User

    visitor = User.objects.get(email=VISITOR_EMAIL.format(0))
    per_line, lines_per_order = settings.TICKETS_MAX_PER_LINE, 10
    started, orders, issued = time.perf_counter(), 0, 0
    for plan in options.plan:
        slot, count, codes = plan.split(":", 2)
        left = int(count)
        issued += left
        while left > 0:
            lines: list[LineRequest] = []
            while left > 0 and len(lines) < lines_per_order:
                quantity = min(per_line, left)
                lines.append(
                    LineRequest(
                        kind="ticket",
                        quantity=quantity,
                        fields={"slot": int(slot), "ticket_type": options.ticket_type},
                        index=len(lines),
                    )
                )
                left -= quantity
            order = services.order_create(actor=visitor, lines=lines)
            services.order_pay(order=order, actor=visitor, method=PaymentMethod.SANDBOX)
            orders += 1
        secrets = list(
            Ticket.objects.filter(
                slot_id=int(slot), status=TicketStatus.VALID, check_in__isnull=True
            ).values_list("secret", flat=True)
        )
        random.shuffle(secrets)
        Path(codes).write_text("".join(ticket_code(secret) + "\n" for secret in secrets))
    return {
        "orders": orders,
        "issued": issued,
        "seconds": round(time.perf_counter() - started, 1),
    }


def verify(options: argparse.Namespace) -> dict[str, Any]:
    """What the database says of each ``--purchases`` slot's sales and each ``--check-ins``
    slot's admissions (every number should agree). ``--in-flight``: the orders whose pay and
    the codes whose scan were unanswered when the load generator stopped."""
    return {
        "purchases": {str(slot): _purchases(slot, options.in_flight) for slot in options.purchases},
        "check_ins": {str(slot): _check_ins(slot, options.in_flight) for slot in options.check_ins},
    }


def _purchases(slot_id: int, in_flight: list[str]) -> dict[str, Any]:
    from django.db.models import Sum
    from django.utils import timezone

    from apps.business.payments.models import Order, OrderStatus, Payment, PaymentStatus
    from apps.business.tickets.models import Reservation, ReservationStatus, Ticket, TimeSlot

    slot = TimeSlot.objects.get(pk=slot_id)
    orders = Order.objects.filter(ticket_reservations__slot=slot).distinct()
    by_status: dict[str, int] = defaultdict(int)
    for status in orders.values_list("status", flat=True):
        by_status[status] += 1
    reservations = Reservation.objects.filter(slot=slot)

    def seats(**filters: Any) -> int:
        return reservations.filter(**filters).aggregate(seats=Sum("quantity"))["seats"] or 0

    payments = Payment.objects.filter(order__in=orders)
    order_ids = [int(value) for value in in_flight if value.isdigit()]
    return {
        "capacity": slot.capacity,
        "sold": slot.sold,
        "orders": sum(by_status.values()),
        "paid_orders": by_status[OrderStatus.PAID],
        "pending_orders": by_status[OrderStatus.PENDING],
        "tickets": Ticket.objects.filter(slot=slot).count(),
        "confirmed_seats": seats(status=ReservationStatus.CONFIRMED),
        "live_held_seats": seats(status=ReservationStatus.HELD, expires_at__gt=timezone.now()),
        "succeeded_payments": payments.filter(status=PaymentStatus.SUCCEEDED).count(),
        "pending_payments": payments.filter(status=PaymentStatus.PENDING).count(),
        "in_flight_paid": orders.filter(pk__in=order_ids, status=OrderStatus.PAID).count(),
    }


def _check_ins(slot_id: int, in_flight: list[str]) -> dict[str, Any]:
    from django.db.models import Count

    from apps.business.tickets.models import CheckIn, Ticket
    from apps.business.tickets.signing import secret_from_code

    secrets = [secret_from_code(code) for code in in_flight if code.startswith("PM1-")]
    check_ins = CheckIn.objects.filter(ticket__slot_id=slot_id)
    return {
        "check_ins": check_ins.count(),
        "tickets_checked_in": Ticket.objects.filter(
            slot_id=slot_id, check_in__isnull=False
        ).count(),
        "tickets_with_two": CheckIn.objects.values("ticket")
        .annotate(scans=Count("id"))
        .filter(scans__gt=1)
        .count(),
        "in_flight_accepted": check_ins.filter(ticket__secret__in=secrets).count(),
    }


class Sampler:
    """A statistical CPU profiler from the standard library (py-spy's idea, without py-spy):
    every ``interval`` seconds of CPU time of this process (SIGPROF), the running stack is
    recorded. Time spent waiting on PostgreSQL or Redis uses no CPU and is not sampled."""

    def __init__(self, interval: float = 0.0005) -> None:
        self.interval, self.samples = interval, 0
        self.packages: Counter[str] = Counter()
        self.inclusive: Counter[str] = Counter()

    def __enter__(self) -> "Sampler":
        signal.signal(signal.SIGPROF, self._record)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, signal.SIG_DFL)

    def _record(self, _signum: int, frame: Any) -> None:
        self.samples += 1
        self.packages[_package(frame.f_code.co_filename)] += 1
        seen = set()
        while frame is not None:
            path = frame.f_code.co_filename
            if "/apps/" in path or "/api/" in path:
                seen.add(f"{Path(path).parent.name}/{Path(path).name}:{frame.f_code.co_name}")
            frame = frame.f_back
        self.inclusive.update(seen)

    def shares(self, counter: Counter[str], top: int, ms: float) -> dict[str, float]:
        """The ``top`` entries as milliseconds of ``ms`` of CPU."""
        return {
            name: round(ms * count / max(self.samples, 1), 2)
            for name, count in counter.most_common(top)
        }


# SELECT ... FOR UPDATE, FOR NO KEY UPDATE, FOR UPDATE OF "table" (the rows of one table).
_LOCKING = re.compile(r'FOR (NO KEY )?UPDATE( OF [\w", ]+)?\s*$')


def brief(sql: str) -> str:
    """``SELECT tickets_timeslot FOR UPDATE``, ``INSERT payments_order``, ``BEGIN``…"""
    # The ORM quotes table names; the statements written by hand do not.
    found = re.match(
        r'\s*(SELECT .*?\sFROM|INSERT INTO|UPDATE|DELETE FROM)\s+"?(\w+)"?', sql, re.S | re.I
    )
    if found is None:
        return sql.split()[0] if sql.split() else sql
    lock = " FOR UPDATE" if _LOCKING.search(sql) else ""
    return f"{found.group(1).split()[0]} {found.group(2)}{lock}"


def profile(options: argparse.Namespace) -> dict[str, Any]:
    """One worker's view, without contention: each kind of request in-process through the
    whole stack (middleware, JWT, DRF, services, PostgreSQL, Redis), one at a time. For each:
    its queries; over ``--repeat`` runs its mean wall time, CPU time of this process and time
    spent in database calls; then where the CPU goes (sampled: by package of the running
    frame, and inside app functions, inclusive)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.business.tickets.models import Ticket, TicketStatus
    from apps.business.tickets.signing import ticket_code
    from apps.support.security.models import User

    visitor = User.objects.get(email=VISITOR_EMAIL.format(0))
    gate = User.objects.get(email=GATE_EMAIL)
    host = "127.0.0.1"
    buyer = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(visitor)}")
    scanner = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(gate)}")
    anonymous = Client(HTTP_HOST=host)
    line = {"slot": options.slot, "ticket_type": options.ticket_type, "quantity": 1}
    codes = iter(
        ticket_code(secret)
        for secret in Ticket.objects.filter(
            slot_id=options.codes_slot or options.slot,
            status=TicketStatus.VALID,
            check_in__isnull=True,
        ).values_list("secret", flat=True)[: 3 * options.repeat + 20]
    )
    unpaid: list[int] = []

    def create() -> None:
        response = buyer.post(
            "/api/v1/payments/orders/", {"lines": [line]}, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        unpaid.append(response.json()["id"])

    def pay() -> None:
        response = buyer.post(
            f"/api/v1/payments/orders/{unpaid.pop()}/pay/",
            {"gateway": "sandbox"},
            content_type="application/json",
        )
        assert response.status_code == 200, response.content

    def buy() -> None:  # create and pay in one request
        response = buyer.post(
            "/api/v1/payments/orders/",
            {"lines": [line], "pay": {"gateway": "sandbox"}},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["status"] == "paid", response.content

    def check_in() -> None:
        response = scanner.post(
            "/api/v1/tickets/check-ins/",
            {"code": next(codes), "gate": "G2"},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content

    def availability() -> None:
        response = anonymous.get(f"/api/v1/tickets/slots/?date={options.date}")
        assert response.status_code == 200, response.content

    purchase = {"buy": buy} if options.purchase == "one-request" else {"create": create, "pay": pay}
    requests = {**purchase, "check_in": check_in, "availability": availability}
    for _ in range(5):  # warm up: imports, caches, the connection
        for call in requests.values():
            call()
    report: dict[str, Any] = {}
    sql_seconds = [0.0]
    held: defaultdict[str, float] = defaultdict(
        float
    )  # seconds each table's row locks were held, to commit

    # A row lock is held from the statement that takes it (a locking read, an UPDATE) until the
    # COMMIT returns; for each table, from the first such statement of the transaction.
    locked_since: dict[str, float] = {}

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        kind, table = [*brief(sql).split(), "", ""][:2]
        locking = _LOCKING.search(sql) or kind == "UPDATE"
        if locking and connection.in_atomic_block and table not in locked_since:
            locked_since[table] = started
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds[0] += time.perf_counter() - started

    commit, rollback = connection._commit, connection._rollback  # type: ignore[attr-defined]

    def timed_commit() -> None:
        commit()
        now = time.perf_counter()
        for table, since in locked_since.items():
            held[table] += now - since
        locked_since.clear()

    def timed_rollback() -> None:
        rollback()
        locked_since.clear()

    setattr(connection, "_commit", timed_commit)  # noqa: B010 (the wrapper's private method)
    setattr(connection, "_rollback", timed_rollback)  # noqa: B010
    for name, call in requests.items():
        with CaptureQueriesContext(connection) as captured:
            call()
        statements = [brief(query["sql"]) for query in captured]  # before the next request
        sql_seconds[0] = 0.0
        held.clear()
        with connection.execute_wrapper(timed):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(options.repeat):
                call()
            wall = (time.perf_counter() - wall) * 1000 / options.repeat
            cpu = (time.process_time() - cpu) * 1000 / options.repeat
        with Sampler() as sampler:
            for _ in range(options.repeat):
                call()
        report[name] = {
            "ms": round(wall, 2),
            "cpu_ms": round(cpu, 2),
            "sql_wait_ms": round(sql_seconds[0] * 1000 / options.repeat, 2),
            "locks_held_ms": {
                table: round(seconds * 1000 / options.repeat, 2) for table, seconds in held.items()
            },
            "queries": len(statements),
            "statements": statements,
            "cpu_by_package_ms": sampler.shares(sampler.packages, 8, cpu),
            "cpu_in_app_functions_ms": sampler.shares(sampler.inclusive, 16, cpu),
        }
    return report


def _package(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    for part in ("/apps/", "/api/", "/config/", "/bench/"):
        if part in filename:
            return part.strip("/") + "/" + filename.split(part, 1)[1].split("/", 1)[0]
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    return "python stdlib"


COMMANDS = {
    "seed": seed,
    "tokens": tokens,
    "issue": issue,
    "verify": verify,
    "profile": profile,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--visitors", type=int, default=16)
    parser.add_argument("--hot-capacity", type=int, default=1_000_000)
    parser.add_argument("--scarce-capacity", type=int, default=200)
    parser.add_argument("--slot", type=int)
    parser.add_argument("--ticket-type", type=int)
    parser.add_argument("--plan", action="append", default=[], help="issue: SLOT:COUNT:FILE")
    parser.add_argument("--date")
    parser.add_argument("--codes-slot", type=int, help="profile: the check-ins' slot")
    parser.add_argument(
        "--purchase", choices=("one-request", "two-requests"), default="two-requests"
    )
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--in-flight", nargs="*", default=[])
    parser.add_argument("--purchases", type=int, action="append", default=[], help="verify")
    parser.add_argument("--check-ins", type=int, action="append", default=[], help="verify")
    options = parser.parse_args()
    django.setup()
    print(json.dumps(COMMANDS[options.command](options)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
