"""Benchmark: the finance reports on a year of sales, through the real HTTP stack, beside the
raw SQL of the same aggregate in the same run.

    python bench/reports.py                  # or: make bench-reports
    python bench/reports.py --orders-per-day 3000 --days 365 --requests 30 --keep

1. A ``parque_marino_bench_reports`` PostgreSQL database is migrated and filled in SQL, on the
   server (``INSERT ... SELECT FROM generate_series``: about a minute for 1.1 M orders, where
   the ORM would take an hour): ``--days`` days ending yesterday of ``--orders-per-day`` paid
   orders each, spread over the day; every order has a ticket line (adult, 1-4 tickets), one
   in three a second one (child), one in 97 an enrollment line; one in five is a counter sale
   (cash or card), the others online (sandbox, Stripe, PayPal); the payment that paid each;
   one order in a hundred refunded in part two days later. Then ``VACUUM ANALYZE``.
   ``--keep`` reuses the database when it already holds that many orders.
2. gunicorn (2 workers, production settings) answers as a member of finance: the last whole
   month's sales report per ``group_by``, ``--live-requests`` times each, computed live
   (nothing summarized: before the daily totals), one request at a time (after two warm-up
   requests); median and p95 in ms.
3. The summarize step, as the nightly job would have run it: ``finance_summarize --rebuild``
   over every closed day but yesterday (time per day), then the month's sales reports again,
   ``--requests`` times each, read from the daily totals; the last 30 days with yesterday
   computed live (the report between midnight and the job); then yesterday summarized too,
   and the refunds reports.
4. The same aggregate in raw SQL (psycopg, one query: what the sales-by-day report ran live,
   with no HTTP, Django, serialization or totals), timed the same way, and the ratio API/SQL:
   the machine's speed varies 2-3x from run to run; the ratio much less.

Target: a month's sales report under 300 ms on PostgreSQL. Needs PostgreSQL and
Redis on 127.0.0.1, as the other benchmarks.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a script: python bench/reports.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bench import common
from bench.common import PYTHON, ROOT, bench_env, gunicorn, prepare_database

SALES_GROUPS = ("day", "ticket_type", "channel", "gateway")
PARK = ZoneInfo("America/Costa_Rica")  # the park's TIME_ZONE (UTC-6, no summer time)

TOKEN = """
from rest_framework_simplejwt.tokens import AccessToken
from apps.support.security.models import User
from django.contrib.auth.models import Group
user, _ = User.objects.get_or_create(email="finance@bench.test", defaults={"is_staff": True})
user.groups.add(Group.objects.get(name="finance"))
print(AccessToken.for_user(user))
"""

TICKET_TYPES = """
INSERT INTO tickets_tickettype (code, name_es, name_en, description_es, description_en, price,
    currency, min_quantity, is_active, display_order, created_at, updated_at)
VALUES ('bench-adult', 'Adulto', 'Adult', '', '', 2900, 'CRC', 1, true, 1, now(), now()),
       ('bench-child', 'Niño', 'Child', '', '', 1450, 'CRC', 1, true, 2, now(), now())
RETURNING id
"""

# One statement per table, all on the server. Orders get ids 1..N (a fresh table), so their
# lines, payments and refunds are derived from the same number g.
FILL = """
CREATE TEMP TABLE bench_orders AS
SELECT g,
       %(first)s::timestamptz + ((g - 1) / %(per_day)s) * interval '1 day'
           + ((g - 1) %% %(per_day)s) * (interval '1 day' / %(per_day)s) AS paid_at,
       (1 + g %% 4) * 2900.00 AS adult_total,
       CASE WHEN g %% 3 = 0 THEN (1 + g %% 2) * 1450.00 ELSE 0 END AS child_total,
       CASE WHEN g %% 97 = 0 THEN 5000.00 ELSE 0 END AS enrollment_total,
       g %% 5 = 0 AS counter
FROM generate_series(1, %(orders)s) AS g;

INSERT INTO payments_order (id, code, user_id, email, channel, status, currency, total,
    expires_at, paid_at, cancel_reason, created_by_id, created_at, updated_at)
SELECT g, 'BENCH' || g, CASE WHEN counter THEN NULL ELSE %(user)s END, '',
       CASE WHEN counter THEN 'counter' ELSE 'online' END, 'paid', 'CRC',
       adult_total + child_total + enrollment_total, paid_at + interval '15 minutes', paid_at,
       '', %(user)s, paid_at - interval '1 minute', paid_at
FROM bench_orders;
SELECT setval(pg_get_serial_sequence('payments_order', 'id'), %(orders)s);

INSERT INTO payments_orderline (order_id, kind, description, unit_price, quantity, total,
    reference)
SELECT g, 'ticket', 'Adulto', 2900.00, 1 + g %% 4, adult_total,
       jsonb_build_object('slot', 1, 'ticket_type', %(adult)s)
FROM bench_orders
UNION ALL
SELECT g, 'ticket', 'Niño', 1450.00, 1 + g %% 2, child_total,
       jsonb_build_object('slot', 1, 'ticket_type', %(child)s)
FROM bench_orders WHERE child_total > 0
UNION ALL
SELECT g, 'enrollment', 'Taller', 5000.00, 1, enrollment_total,
       jsonb_build_object('session', 1)
FROM bench_orders WHERE enrollment_total > 0;

INSERT INTO payments_payment (order_id, method, amount, currency, status, gateway_reference,
    capture_reference, gateway_outcome, failure_code, failure_message, succeeded_at,
    created_by_id, created_at, updated_at)
SELECT g,
       CASE WHEN counter THEN (ARRAY['cash', 'card_present'])[1 + g %% 2]
            ELSE (ARRAY['sandbox', 'stripe', 'paypal'])[1 + g %% 3] END,
       adult_total + child_total + enrollment_total, 'CRC',
       CASE WHEN g %% 100 = 7 THEN 'partially_refunded' ELSE 'succeeded' END,
       '', '', 'succeeded', '', '', paid_at, %(user)s, paid_at, paid_at
FROM bench_orders;

INSERT INTO payments_refund (payment_id, amount, currency, status, scope, lines,
    gateway_reference, reason, failure_message, attempts, retries, completed_at, created_at,
    updated_at)
SELECT p.id, 1450.00, 'CRC', 'succeeded', 'amount', '[]', '', 'bench', '', 1, 0,
       o.paid_at + interval '2 days', o.paid_at + interval '2 days',
       o.paid_at + interval '2 days'
FROM bench_orders o JOIN payments_payment p ON p.order_id = o.g
WHERE o.g %% 100 = 7;
"""

# What the sales report by day runs, by hand: the baseline.
BASELINE = """
SELECT (o.paid_at AT TIME ZONE %(zone)s)::date AS day, count(DISTINCT l.order_id),
       coalesce(sum(l.quantity), 0), coalesce(sum(l.total), 0.00)
FROM payments_orderline l JOIN payments_order o ON l.order_id = o.id
WHERE o.currency = 'CRC' AND o.paid_at >= %(start)s AND o.paid_at < %(end)s
GROUP BY 1
"""


def park_today() -> date:
    return datetime.now(tz=PARK).date()


def fill(conninfo: str, *, days: int, per_day: int, user: int) -> float:
    first = park_today() - timedelta(days=days)
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as connection:
        with connection.transaction():
            adult, child = (row[0] for row in connection.execute(TICKET_TYPES).fetchall())
            params = {
                "first": f"{first} 00:00:00-06",
                "per_day": per_day,
                "orders": days * per_day,
                "user": user,
                "adult": adult,
                "child": child,
            }
            for statement in FILL.split(";\n"):
                if statement.strip():
                    connection.execute(statement, params)
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def timed(call: Any, repeat: int) -> list[float]:
    for _ in range(2):
        call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--orders-per-day", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per report")
    parser.add_argument(
        "--live-requests", type=int, default=10, help="timed requests per live report (slow)"
    )
    parser.add_argument("--keep", action="store_true", help="reuse a filled database")
    parser.add_argument("--database", default="parque_marino_bench_reports")
    parser.add_argument(
        "--port", type=int, default=common.PORT, help="gunicorn's (another bench may use 8765)"
    )
    options = parser.parse_args()
    host = common.host_url(options.port)

    env = bench_env(options.database, REDIS_URL="redis://127.0.0.1:6379/9")
    conninfo = f"postgresql://postgres@127.0.0.1:5432/{options.database}"
    orders = options.days * options.orders_per_day
    reuse = False
    if options.keep:
        try:
            with psycopg.connect(conninfo) as connection:
                row = connection.execute("SELECT count(*) FROM payments_order").fetchone()
                reuse = row is not None and row[0] == orders
        except psycopg.OperationalError:
            reuse = False
    prepare_database(env, options.database, fresh=not reuse)
    token = (
        subprocess.run(
            [PYTHON, "manage.py", "shell", "-v0", "-c", TOKEN],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    with psycopg.connect(conninfo) as connection:
        user = connection.execute(
            "SELECT id FROM security_user WHERE email = 'finance@bench.test'"
        ).fetchone()[0]  # type: ignore[index]
    if reuse:
        print(f"reusing {orders:,} orders in {options.database}")
    else:
        seconds = fill(conninfo, days=options.days, per_day=options.orders_per_day, user=user)
        print(f"filled {orders:,} orders in {seconds:.0f} s (INSERT ... SELECT generate_series)")
    with psycopg.connect(conninfo) as connection:
        counts = connection.execute(
            "SELECT (SELECT count(*) FROM payments_order), (SELECT count(*) FROM "
            "payments_orderline), (SELECT count(*) FROM payments_payment), "
            "(SELECT count(*) FROM payments_refund)"
        ).fetchone()
    print("orders {:,}, lines {:,}, payments {:,}, refunds {:,}".format(*counts))  # type: ignore[misc]

    last_month_end = park_today().replace(day=1) - timedelta(days=1)
    month = {"from": last_month_end.replace(day=1).isoformat(), "to": last_month_end.isoformat()}
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str, **params: str) -> Any:
        query = "&".join(f"{key}={value}" for key, value in {**month, **params}.items())
        request = urllib.request.Request(f"{host}{path}?{query}", headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    sales = "/api/v1/payments/reports/sales/"
    yesterday = park_today() - timedelta(days=1)
    first_day = yesterday - timedelta(days=options.days - 1)
    live: dict[str, list[float]] = {}
    results: dict[str, list[float]] = {}
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("DELETE FROM finance_salesdaytotal")
        connection.execute("DELETE FROM finance_salesday")
    with gunicorn(env, port=options.port):
        by_day = get(sales, group_by="day")
        print(
            f"month {month['from']}..{month['to']}: {by_day['totals']['orders']:,} orders, "
            f"{by_day['totals']['items']:,} items, gross {by_day['totals']['gross']} CRC"
        )
        live_bodies = {group_by: get(sales, group_by=group_by) for group_by in SALES_GROUPS}
        for group_by in SALES_GROUPS:
            live[f"sales by {group_by}"] = timed(
                lambda g=group_by: get(sales, group_by=g), options.live_requests
            )
        seconds, days = summarize(env, first_day, yesterday - timedelta(days=1))
        print(
            f"summarized {days} closed days in {seconds:.1f} s: "
            f"{seconds / days * 1000:.0f} ms a day (finance_summarize --rebuild)"
        )
        for group_by in SALES_GROUPS:  # the same answers, read from the daily totals
            assert get(sales, group_by=group_by) == live_bodies[group_by], group_by
        for group_by in SALES_GROUPS:
            results[f"sales by {group_by}"] = timed(
                lambda g=group_by: get(sales, group_by=g), options.requests
            )
        last_30 = {"from": (yesterday - timedelta(days=29)).isoformat(), "to": str(yesterday)}
        for group_by in ("day", "ticket_type"):
            results[f"30 days, yesterday live, by {group_by}"] = timed(
                lambda g=group_by: get(sales, group_by=g, **last_30), options.requests
            )
        summarize(env, yesterday, yesterday)
        for group_by in ("day", "gateway"):
            results[f"refunds by {group_by}"] = timed(
                lambda g=group_by: get("/api/v1/payments/reports/refunds/", group_by=g),
                options.requests,
            )
    with psycopg.connect(conninfo) as connection:
        start = f"{month['from']} 00:00:00-06"
        end = f"{(last_month_end + timedelta(days=1)).isoformat()} 00:00:00-06"
        params = {"zone": "America/Costa_Rica", "start": start, "end": end}
        baseline = timed(
            lambda: connection.execute(BASELINE, params).fetchall(),
            options.requests,
        )
        sql_days = connection.execute(BASELINE, params).fetchall()
    api_days = [row for row in by_day["rows"] if row["orders"]]
    assert len(api_days) == len(sql_days), (len(api_days), len(sql_days))
    assert sum(row[1] for row in sql_days) == by_day["totals"]["orders"]

    print(f"\n{'report (one month, through gunicorn)':44} {'live (before)':36} summarized (after)")
    for name, times in results.items():
        before = summary(live[name]) if name in live else ""
        print(f"  {name:42} {before:36} {summary(times)}")
    print(f"  {'raw SQL of sales by day, live (psycopg)':42} {summary(baseline)}")
    ratio = statistics.median(live["sales by day"]) / statistics.median(baseline)
    print(f"  ratio live sales by day / raw SQL:         {ratio:5.2f}")
    worst = max(statistics.median(times) for name, times in results.items() if "sales" in name)
    print(f"  target: a month's sales report under 300 ms: {'met' if worst < 300 else 'NOT met'}")


def summarize(env: dict[str, str], first: date, last: date) -> tuple[float, int]:
    """``finance_summarize --rebuild`` of ``first`` to ``last``: seconds, days."""
    started = time.perf_counter()
    subprocess.run(
        [
            PYTHON,
            "manage.py",
            "finance_summarize",
            "--rebuild",
            *("--from", str(first)),
            *("--to", str(last)),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started, (last - first).days + 1


if __name__ == "__main__":
    main()
