"""Benchmark: ticket sales on one hot slot, check-ins at the gate, and the availability list
against a raw-SQL baseline, on the same gunicorn (2 workers, production settings, PostgreSQL,
Redis) in one run.

    python bench/tickets.py                 # or: make bench-tickets
    python bench/tickets.py --seconds 30 --connections 16 --rounds 5

A. purchases: every wrk connection (one per thread, each its own visitor) creates an order of
   one ticket of the hot slot and pays it with the sandbox gateway, again and again; confirmed
   purchases/s = paid answers / duration. Then the database must agree: paid orders = tickets
   = seats sold = confirmed seats <= capacity, and wrk's paid answers match the paid orders.
   A second run sells a slot of 200 seats to more buyers than seats, long enough to sell them
   twice over at A's rate: exactly 200 sold, nothing oversold.
B. check-ins: tickets issued through the order services, each code scanned once by gate
   staff; check-ins/s, and the database holds one check-in per accepted scan.
C. availability: GET /api/v1/tickets/slots/?date=today against raw SQL + json.dumps returning
   the same JSON, in alternating rounds; requests/s and the median per-round ratio.

While A and B run, PostgreSQL's backends are sampled (what they wait on, which statements
wait for locks) and the CPU each process group used is measured. When purchases miss the
target (or with --profile always), each request is then profiled in-process: its queries,
wall, CPU and SQL time, the row locks it holds until commit, where its CPU goes.

Needs PostgreSQL and Redis on 127.0.0.1 (as in CI) and wrk (installed from Debian if missing).
Every core counts on a small machine: it first waits (--wait-quiet) for other processes to
leave the CPU, and reports what else ran. Exits non-zero when anything was oversold or the
database disagrees with the answers.
"""

import argparse
import json
import math
import os
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/tickets.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import redis

from bench.common import (
    HOST,
    PYTHON,
    ROOT,
    bench_env,
    ensure_wrk,
    fetch,
    gunicorn,
    measure,
    prepare_database,
)

REDIS_CACHE = "redis://127.0.0.1:6379/10"
# Paid orders queue their tickets' email (PDF attached) on commit, as in production: to a
# broker that no worker reads during the run (emptied at the end), not in the request.
REDIS_BROKER = "redis://127.0.0.1:6379/11"

PURCHASE_LUA = """
-- One wrk thread per connection: request and response alternate strictly in each thread.
local tokens = {%(tokens)s}
local orders = "/api/v1/payments/orders/"
local create_body = '{"lines": [{"slot": %(slot)d, "ticket_type": %(ticket_type)d, "quantity": 1}]}'
local pay_body = '{"gateway": "sandbox"}'
local threads, started = {}, 0
local keys = {"created", "paid", "sold_out", "create_busy", "create_409", "create_other",
              "pay_busy", "pay_409", "pay_other"}

function setup(thread)
  started = started + 1
  thread:set("token", tokens[(started - 1) %% #tokens + 1])
  table.insert(threads, thread)
end

function init(args)
  headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  for _, key in ipairs(keys) do _G[key] = 0 end
  pending, in_flight, sample = nil, nil, nil
end

function request()
  if pending then
    in_flight = pending
    return wrk.format("POST", orders .. pending .. "/pay/", headers, pay_body)
  end
  in_flight = "create"
  return wrk.format("POST", orders, headers, create_body)
end

local function has(body, text) return string.find(body, text, 1, true) ~= nil end

function response(status, _headers, body)
  if in_flight == "create" then
    if status == 201 then
      created = created + 1
      pending = string.match(body, '"id":(%%d+)')
    elseif status == 409 and has(body, '"sold_out"') then sold_out = sold_out + 1
    elseif status == 409 and has(body, '"busy"') then create_busy = create_busy + 1
    elseif status == 409 then create_409 = create_409 + 1
    else create_other = create_other + 1 end
  else
    if status == 200 and has(body, '"status":"paid"') then paid = paid + 1
    elseif status == 409 and has(body, '"busy"') then pay_busy = pay_busy + 1
    elseif status == 409 then pay_409 = pay_409 + 1
    else pay_other = pay_other + 1 end
    pending = nil
  end
  if status >= 300 and status ~= 409 and sample == nil then
    sample = status .. " " .. string.sub(body, 1, 300)
  end
  in_flight = nil
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for _, key in ipairs(keys) do totals[key] = (totals[key] or 0) + (thread:get(key) or 0) end
    local open = thread:get("in_flight")
    if open == "create" then io.write("BENCH in_flight_create\\n")
    elseif open then io.write("BENCH in_flight_pay ", open, "\\n") end
    local sample = thread:get("sample")
    if sample then io.write("BENCH sample ", sample, "\\n") end
  end
  for _, key in ipairs(keys) do io.write("BENCH ", key, " ", totals[key], "\\n") end
end
"""

CHECK_IN_LUA = """
-- Each thread scans its own share of the codes, each once (the next code after an answer).
local token = "%(token)s"
local codes_file = "%(codes)s"
local share = %(threads)d
local threads, started = {}, 0
local keys = {"accepted", "already", "other", "exhausted"}

function setup(thread)
  thread:set("tid", started)
  started = started + 1
  table.insert(threads, thread)
end

function init(args)
  headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  codes, n = {}, 0
  for line in io.lines(codes_file) do
    if n %% share == tid then codes[#codes + 1] = line end
    n = n + 1
  end
  for _, key in ipairs(keys) do _G[key] = 0 end
  next_code, in_flight, sample = 1, nil, nil
end

function request()
  local code = codes[next_code]
  if code == nil then
    exhausted = exhausted + 1
    code = codes[#codes]
  end
  in_flight = code
  return wrk.format("POST", "/api/v1/tickets/check-ins/", headers,
                    '{"code": "' .. code .. '", "gate": "G1"}')
end

function response(status, _headers, body)
  if status == 201 then accepted = accepted + 1
  elseif status == 409 and string.find(body, '"already_checked_in"', 1, true) then
    already = already + 1
  else
    other = other + 1
    if sample == nil then sample = status .. " " .. string.sub(body, 1, 300) end
  end
  in_flight = nil
  next_code = next_code + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for _, key in ipairs(keys) do totals[key] = (totals[key] or 0) + (thread:get(key) or 0) end
    local open = thread:get("in_flight")
    if open then io.write("BENCH in_flight_code ", open, "\\n") end
    local sample = thread:get("sample")
    if sample then io.write("BENCH sample ", sample, "\\n") end
  end
  for _, key in ipairs(keys) do io.write("BENCH ", key, " ", totals[key], "\\n") end
end
"""


class Failures(list[str]):
    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.append(message)


def db_command(env: dict[str, str], *arguments: object) -> Any:
    """``python -m bench.tickets_db ...`` with the run's environment: its JSON answer."""
    result = subprocess.run(
        [PYTHON, "-m", "bench.tickets_db", *map(str, arguments)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(result.stderr[-4000:], file=sys.stderr)
        raise SystemExit(f"bench.tickets_db {arguments[0]} failed (its error is above)")
    return json.loads(result.stdout.strip().splitlines()[-1])


def wrk_script(wrk: str, script: str, connections: int, seconds: int) -> dict[str, Any]:
    """Run wrk with a Lua script (one thread per connection); its counters and its stats."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
    try:
        started = time.perf_counter()
        result = subprocess.run(
            [
                wrk,
                f"-t{connections}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "30s",
                "-s",
                file.name,
                HOST,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
    finally:
        os.unlink(file.name)
    counters: dict[str, Any] = {"in_flight": [], "in_flight_creates": 0, "samples": []}
    for line in result.stdout.splitlines():
        if not line.startswith("BENCH "):
            continue
        key, _, value = line[6:].partition(" ")
        if key in ("in_flight_pay", "in_flight_code"):
            counters["in_flight"].append(value)
        elif key == "in_flight_create":
            counters["in_flight_creates"] += 1
        elif key == "sample":
            counters["samples"].append(value)
        else:
            counters[key] = int(value)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", result.stdout
    )
    counters["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    counters["requests_per_second"] = float(
        re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1)  # type: ignore[union-attr]
    )
    latency = re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", result.stdout)
    counters["latency"] = f"avg {latency.group(1)}, max {latency.group(3)}" if latency else "?"
    counters["seconds"] = seconds
    counters["wall_seconds"] = elapsed
    return counters


def settle(database: str, timeout: float = 30.0) -> None:
    """Wait until no request of the run is still working in the database."""
    deadline, quiet = time.monotonic() + timeout, 0
    time.sleep(0.3)
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as db:
        while quiet < 3 and time.monotonic() < deadline:
            busy = db.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND state IN ('active', 'idle in transaction')",
                [database],
            ).fetchone()
            quiet = quiet + 1 if busy and busy[0] == 0 else 0
            time.sleep(0.1)


def _cpu_ticks() -> tuple[dict[int, tuple[str, int]], int, int]:
    """Per process (name, user + system ticks), and the machine's busy and total ticks."""
    processes = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        processes[int(entry)] = (name, int(fields[11]) + int(fields[12]))
    cpu = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = cpu[3] + cpu[4]
    return processes, sum(cpu) - idle, sum(cpu)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


@contextmanager
def observe(database: str, workers: set[int]) -> Iterator[dict[str, Any]]:
    """While the block runs: what PostgreSQL's backends of the run wait on (pg_stat_activity,
    sampled every 10 ms) and which processes use the CPU."""
    result: dict[str, Any] = {}
    samples: Counter[str] = Counter()
    lock_queries: Counter[str] = Counter()
    stop = threading.Event()
    count = [0]

    def sample() -> None:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as db:
            while not stop.is_set():
                rows = db.execute(
                    "SELECT state, wait_event_type, wait_event, query FROM pg_stat_activity "
                    "WHERE datname = %s AND state <> 'idle'",
                    [database],
                ).fetchall()
                count[0] += 1
                for state, wait_type, wait, query in rows:
                    if state == "idle in transaction":
                        samples["idle in transaction (Python holds the transaction)"] += 1
                    elif wait_type is None:
                        samples["active, on CPU"] += 1
                    else:
                        samples[f"active, waiting {wait_type}:{wait}"] += 1
                        if wait_type == "Lock":
                            lock_queries[" ".join(query.split())[:110]] += 1
                time.sleep(0.01)

    def own_ticks(who: int) -> float:
        usage = resource.getrusage(who)
        return (usage.ru_utime + usage.ru_stime) * os.sysconf("SC_CLK_TCK")

    before, busy_before, total_before = _cpu_ticks()
    wrk_before, self_before = own_ticks(resource.RUSAGE_CHILDREN), own_ticks(resource.RUSAGE_SELF)
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        after, busy_after, total_after = _cpu_ticks()
        ticks: Counter[str] = Counter()
        # wrk is this script's child (ended by now: counted by getrusage, not in /proc).
        ticks["wrk"] = round(own_ticks(resource.RUSAGE_CHILDREN) - wrk_before)
        ticks["this script"] = round(own_ticks(resource.RUSAGE_SELF) - self_before)
        for pid, (name, used) in after.items():
            group = (
                "gunicorn workers"
                if pid in workers
                else "postgres, this run's backends"
                if name == "postgres" and database in _cmdline(pid)
                else "postgres, its other processes"
                if name == "postgres"
                else "redis"
                if name.startswith("redis")
                else None
            )
            if group is not None:
                ticks[group] += used - (before[pid][1] if pid in before else 0)
        cores = os.cpu_count() or 1
        span = (total_after - total_before) / cores or 1
        # The rest of the busy time: other processes (also those that ended meanwhile) and the
        # kernel.
        ticks["everything else"] = max(busy_after - busy_before - sum(ticks.values()), 0)
        result["cpu_busy"] = (busy_after - busy_before) / (total_after - total_before or 1)
        result["cpu_cores_used"] = {name: value / span for name, value in ticks.most_common()}
        result["backends"] = {
            name: value / max(count[0], 1) for name, value in samples.most_common()
        }
        result["lock_waits"] = dict(lock_queries.most_common(4))


def wait_for_quiet(longest: float) -> tuple[float, float]:
    """Wait (at most ``longest`` s) until the machine is mostly idle, since every core counts
    here; returns the share of CPU busy in the last 2 s and the seconds waited."""
    started = time.monotonic()
    while True:
        _, busy_before, total_before = _cpu_ticks()
        time.sleep(2)
        _, busy_after, total_after = _cpu_ticks()
        busy = (busy_after - busy_before) / (total_after - total_before or 1)
        waited = time.monotonic() - started
        if busy < 0.15 or waited >= longest:
            return busy, waited
        print(f"the machine is {busy:.0%} busy; waiting for it to calm down…", file=sys.stderr)


def worker_pids(server: subprocess.Popen) -> set[int]:
    """gunicorn's workers: the processes whose parent is the master."""
    workers = set()
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
        except OSError:
            continue
        if stat and int(stat[stat.rindex(")") + 2 :].split()[1]) == server.pid:
            workers.add(int(entry))
    return workers


def describe(observed: dict[str, Any]) -> list[str]:
    cpu = ", ".join(f"{name} {value:.2f}" for name, value in observed["cpu_cores_used"].items())
    backends = ", ".join(f"{name} {value:.2f}" for name, value in observed["backends"].items())
    lines = [
        f"    CPU {observed['cpu_busy']:.0%} busy; cores used: {cpu}",
        f"    PostgreSQL backends of the run, on average: {backends or 'none'}",
    ]
    for query, samples in observed["lock_waits"].items():
        lines.append(f"    lock wait ({samples} samples): {query}")
    return lines


def describe_profile(profile: dict[str, Any]) -> str:
    lines = [
        "profile: each request in-process through the whole stack, one at a time (no "
        "contention), means of the runs; CPU is this one process's, SQL wait is the time inside "
        "database calls (round trip and PostgreSQL's work):"
    ]
    for name in ("create", "pay", "check_in", "availability"):
        one = profile[name]
        lines.append(
            f"  {name}: {one['ms']} ms wall, {one['cpu_ms']} ms CPU, {one['sql_wait_ms']} ms "
            f"SQL wait, {one['queries']} queries:"
        )
        locks = ", ".join(f"{table} {ms}" for table, ms in one["locks_held_ms"].items())
        lines.append(f"    row locks held until commit, ms: {locks or 'none'}")
        lines.append("    " + "; ".join(one["statements"]))
        for key, label in (
            ("cpu_by_package_ms", "CPU ms by package"),
            ("cpu_in_app_functions_ms", "CPU ms inside (inclusive)"),
        ):
            parts = ", ".join(f"{where} {ms}" for where, ms in one[key].items())
            lines.append(f"    {label}: {parts}")
    create, pay = profile["create"], profile["pay"]
    cpu = create["cpu_ms"] + pay["cpu_ms"]
    slot = create["locks_held_ms"].get("tickets_timeslot", 0) + pay["locks_held_ms"].get(
        "tickets_timeslot", 0
    )
    audit = create["locks_held_ms"].get("audit_auditchainhead", 0) + pay["locks_held_ms"].get(
        "audit_auditchainhead", 0
    )
    cores = os.cpu_count() or 1
    lines.append(
        f"  ceilings of a purchase (create + pay): {cpu:.1f} ms of Python CPU, so at most "
        f"{cores * 1000 / cpu:.0f}/s on {cores} cores before PostgreSQL and the load generator "
        f"take theirs; the hot slot's row locked {slot:.1f} ms, so at most "
        f"{1000 / (slot or 1):.0f}/s on one slot whatever the workers; the audit chain head "
        f"locked {audit:.1f} ms, so at most {1000 / (audit or 1):.0f}/s in the whole system"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="purchase run (A)")
    parser.add_argument("--connections", type=int, default=16, help="for A and B")
    parser.add_argument("--visitors", type=int, default=64, help="buyers (one per connection)")
    parser.add_argument("--scarce-seats", type=int, default=200)
    parser.add_argument(
        "--scarce-seconds",
        type=int,
        default=0,
        help="scarce run (default: long enough to sell the seats twice at A's rate)",
    )
    parser.add_argument("--check-in-seconds", type=int, default=15)
    parser.add_argument("--check-in-tickets", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="availability (C)")
    parser.add_argument("--round-seconds", type=int, default=10, help="availability (C)")
    parser.add_argument("--availability-connections", type=int, default=16)
    parser.add_argument("--target", type=float, default=100.0, help="confirmed purchases/s")
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="in-process profile of the requests (auto: when purchases miss the target)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=60,
        help="at most this many seconds to wait for other processes to leave the CPU",
    )
    parser.add_argument("--database", default="parque_marino_bench_tickets")
    options = parser.parse_args()
    if options.visitors < options.connections:
        parser.error("--visitors must be at least --connections (one buyer per connection)")

    wrk = ensure_wrk()
    env = bench_env(
        options.database,
        REDIS_URL=REDIS_CACHE,
        CELERY_BROKER_URL=REDIS_BROKER,
        PAYMENT_GATEWAYS="sandbox",
        PAYMENTS_SANDBOX_WEBHOOK_SECRET=secrets.token_urlsafe(32),
        JWT_ACCESS_MINUTES="15",
    )
    for url in (REDIS_CACHE, REDIS_BROKER):
        redis.Redis.from_url(url).flushdb()
    busy, waited = wait_for_quiet(options.wait_quiet)
    started = time.perf_counter()
    prepare_database(env, options.database, fresh=True)
    seeded = db_command(
        env,
        "seed",
        "--visitors",
        options.visitors,
        "--scarce-capacity",
        options.scarce_seats,
    )
    hot, scarce, ticket_type = seeded["hot_slot"], seeded["scarce_slot"], seeded["ticket_type"]
    failures = Failures()
    scratch = Path(tempfile.mkdtemp(prefix="bench-tickets-"))
    codes_file, server_log = scratch / "codes.txt", scratch / "gunicorn.log"

    def purchase_script(slot: int) -> str:
        visitors = db_command(env, "tokens")["visitors"]
        return PURCHASE_LUA % {
            "tokens": ", ".join(f'"{token}"' for token in visitors),
            "slot": slot,
            "ticket_type": ticket_type,
        }

    # 409 answers are logged as warnings, as in production: to a file, not the terminal.
    with gunicorn(env, output=server_log) as server:
        workers = worker_pids(server)
        # --- A. purchases on the hot slot ---------------------------------------------
        script = purchase_script(hot)
        warm = wrk_script(wrk, script, options.connections, 3)
        settle(options.database)
        with observe(options.database, workers) as observed_a:
            buy = wrk_script(wrk, script, options.connections, options.seconds)
        settle(options.database)
        sales = db_command(
            env,
            "verify-purchases",
            "--slot",
            hot,
            "--in-flight",
            *warm["in_flight"],
            *buy["in_flight"],
        )
        purchases_per_second = buy["paid"] / options.seconds
        answered_paid = warm["paid"] + buy["paid"]
        in_flight_creates = warm["in_flight_creates"] + buy["in_flight_creates"]
        for name, value in (("sold", sales["sold"]), ("tickets", sales["tickets"])):
            failures.check(
                value == sales["paid_orders"],
                f"A: {name} {value} != paid orders {sales['paid_orders']}",
            )
        failures.check(
            sales["confirmed_seats"] == sales["sold"] == sales["succeeded_payments"],
            f"A: confirmed seats {sales['confirmed_seats']}, sold {sales['sold']} and "
            f"succeeded payments {sales['succeeded_payments']} differ",
        )
        failures.check(
            sales["sold"] <= sales["capacity"], f"A: OVERSOLD {sales['sold']} > capacity"
        )
        failures.check(
            sales["sold"] + sales["live_held_seats"] <= sales["capacity"],
            f"A: sold {sales['sold']} + held {sales['live_held_seats']} > capacity",
        )
        clean = warm["socket_errors"] + buy["socket_errors"] == 0
        if clean:
            # Every pay wrk saw answered 200 is a paid order, and only those (plus pays whose
            # answer was still on its way when wrk stopped).
            failures.check(
                sales["paid_orders"] == answered_paid + sales["in_flight_paid"],
                f"A: {sales['paid_orders']} paid orders in the database, wrk saw "
                f"{answered_paid} paid (+{sales['in_flight_paid']} in flight)",
            )
            orders_seen = warm["created"] + buy["created"]
            failures.check(
                orders_seen <= sales["orders"] <= orders_seen + in_flight_creates,
                f"A: {sales['orders']} orders in the database, wrk saw {orders_seen} created",
            )
        failures.check(
            buy["create_other"] + buy["pay_other"] + buy["pay_409"] + buy["create_409"] == 0,
            f"A: unexpected answers: {buy}",
        )

        # --- A'. a scarce slot: more buyers than seats --------------------------------
        seats = options.scarce_seats
        scarce_seconds = options.scarce_seconds or min(
            120, max(10, math.ceil(2 * seats / max(purchases_per_second, 1)) + 2)
        )
        rush = wrk_script(wrk, purchase_script(scarce), options.connections, scarce_seconds)
        settle(options.database)
        rushed = db_command(
            env, "verify-purchases", "--slot", scarce, "--in-flight", *rush["in_flight"]
        )
        failures.check(rushed["sold"] <= seats, f"A': OVERSOLD {rushed['sold']} of {seats} seats")
        failures.check(
            rushed["sold"]
            == rushed["tickets"]
            == rushed["paid_orders"]
            == rushed["confirmed_seats"]
            == seats,
            f"A': expected exactly {seats} sold, tickets and paid orders: {rushed}",
        )
        failures.check(rush["sold_out"] > 0, "A': the demand never exceeded the seats")

        # --- B. check-ins --------------------------------------------------------------
        issued = db_command(
            env,
            "issue",
            "--slot",
            hot,
            "--ticket-type",
            ticket_type,
            "--count",
            options.check_in_tickets,
            "--codes",
            codes_file,
        )
        gate_token = db_command(env, "tokens")["gate"]
        check_in_script = CHECK_IN_LUA % {
            "token": gate_token,
            "codes": codes_file,
            "threads": options.connections,
        }
        with observe(options.database, workers) as observed_b:
            scans = wrk_script(wrk, check_in_script, options.connections, options.check_in_seconds)
        settle(options.database)
        admitted = db_command(
            env, "verify-check-ins", "--slot", hot, "--in-flight", *scans["in_flight"]
        )
        check_ins_per_second = scans["accepted"] / options.check_in_seconds
        failures.check(admitted["tickets_with_two"] == 0, "B: a ticket was checked in twice")
        failures.check(
            admitted["check_ins"] == admitted["tickets_checked_in"],
            f"B: check-ins {admitted['check_ins']} != tickets checked in",
        )
        if scans["socket_errors"] == 0:
            failures.check(
                admitted["check_ins"] == scans["accepted"] + admitted["in_flight_accepted"],
                f"B: {admitted['check_ins']} check-ins in the database, wrk saw "
                f"{scans['accepted']} accepted (+{admitted['in_flight_accepted']} in flight)",
            )
        failures.check(
            scans["other"] == 0 and scans["already"] == 0 and scans["exhausted"] == 0,
            f"B: unexpected answers: {scans}",
        )

        # --- C. availability against the baseline -------------------------------------
        day = seeded["date"]
        api_url = f"{HOST}/api/v1/tickets/slots/?date={day}"
        baseline_url = f"{HOST}/bench/baseline/slots/?date={day}"
        api, baseline = fetch(api_url), fetch(baseline_url)
        if api["results"] != baseline["results"] or api["count"] != baseline["count"]:
            raise SystemExit(
                f"the baseline and the API do not return the same slots:\n{api}\n{baseline}"
            )
        baseline_runs, api_runs = [], []
        for _ in range(options.rounds):
            baseline_runs.append(
                measure(wrk, baseline_url, options.round_seconds, options.availability_connections)
            )
            api_runs.append(
                measure(wrk, api_url, options.round_seconds, options.availability_connections)
            )

    elapsed = time.perf_counter() - started  # without the profile

    ratios = [api / base for api, base in zip(api_runs, baseline_runs, strict=True)]
    print()
    print(
        f"tickets benchmark: gunicorn -w 2, production settings, PostgreSQL + Redis, "
        f"{os.cpu_count()} cores, {elapsed:.0f} s in all; before it, CPU {busy:.0%} busy "
        f"(waited {waited:.0f} s)"
    )
    print(
        f"A. purchases, one hot slot (capacity {sales['capacity']:,}), create + pay (sandbox), "
        f"{options.connections} connections x 1 visitor each, {options.seconds} s"
    )
    print(
        f"  confirmed purchases/s:      {purchases_per_second:8.1f}  (target >= {options.target:.0f}; "
        f"{buy['paid']} paid, {buy['created']} created, {buy['requests_per_second']:.1f} requests/s, "
        f"latency {buy['latency']})"
    )
    print(
        f"  409 answers:                busy on create {buy['create_busy']}, busy on pay "
        f"{buy['pay_busy']}, other {buy['create_409'] + buy['pay_409']}; non-409 errors "
        f"{buy['create_other'] + buy['pay_other']}; socket errors {buy['socket_errors']}"
    )
    print(
        f"  database after the run:     {sales['paid_orders']} paid orders = {sales['tickets']} tickets "
        f"= {sales['sold']} sold = {sales['confirmed_seats']} confirmed seats "
        f"(wrk saw {answered_paid} paid, {sales['in_flight_paid']} paid in flight); "
        f"oversold {max(sales['sold'] - sales['capacity'], 0)}"
    )
    print(*describe(observed_a), sep="\n")
    print(
        f"  scarce slot, {seats} seats, {options.connections} buyers for {scarce_seconds} s: "
        f"{rushed['sold']} sold = {rushed['tickets']} tickets = {rushed['paid_orders']} paid orders; "
        f"{rush['sold_out']} sold_out answers; oversold {max(rushed['sold'] - seats, 0)}"
    )
    print(
        f"B. check-ins, {issued['issued']:,} tickets issued through the services "
        f"({issued['orders']} orders, {issued['seconds']} s), {options.connections} connections, "
        f"{options.check_in_seconds} s"
    )
    print(
        f"  check-ins/s:                {check_ins_per_second:8.1f}  ({scans['accepted']} accepted, "
        f"latency {scans['latency']}); database: {admitted['check_ins']} check-ins, "
        f"{admitted['tickets_with_two']} tickets checked in twice"
    )
    print(*describe(observed_b), sep="\n")
    print(
        f"C. availability, {api['count']} slots of {day}, {options.availability_connections} "
        f"connections, {options.rounds} alternating rounds of {options.round_seconds} s"
    )
    baseline_all = ", ".join(f"{value:.1f}" for value in baseline_runs)
    api_all = ", ".join(f"{value:.1f}" for value in api_runs)
    print(
        f"  raw SQL + json.dumps baseline: {statistics.median(baseline_runs):8.1f} requests/s "
        f"(median of {baseline_all})"
    )
    print(
        f"  API /api/v1/tickets/slots/:    {statistics.median(api_runs):8.1f} requests/s "
        f"(median of {api_all})"
    )
    rounds = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    print(
        f"  ratio API / baseline:          {statistics.median(ratios):8.2f}  (median of rounds: {rounds})"
    )
    sys.stdout.flush()  # the numbers above stand even if profiling fails
    if options.profile == "always" or (
        options.profile == "auto" and purchases_per_second < options.target
    ):
        profile = db_command(
            env,
            "profile",
            "--slot",
            hot,
            "--ticket-type",
            ticket_type,
            "--date",
            day,
            "--repeat",
            100,
        )
        print(describe_profile(profile))
    redis.Redis.from_url(REDIS_BROKER).flushdb()  # the tickets' emails nobody will send
    for sample in buy["samples"] + rush["samples"] + scans["samples"]:
        print(f"  sample answer: {sample}")
    if purchases_per_second < options.target:
        print(
            f"NOTE: {purchases_per_second:.1f} confirmed purchases/s is below the target of {options.target:.0f}"
        )
    log_lines = server_log.read_text().count("\n")
    print(f"  gunicorn's output: {server_log} ({log_lines} lines)")
    if failures:
        print("FAILED:", *failures, sep="\n  ")
        raise SystemExit(1)
    print("OK: nothing oversold; the database agrees with every answer")


if __name__ == "__main__":
    main()
