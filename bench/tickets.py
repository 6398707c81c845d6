"""Benchmark: ticket purchases, check-ins at the gate and the availability list, each against
a raw-SQL baseline measured in the same run, on gunicorn (2 workers, production settings,
PostgreSQL, Redis). Every speed target is a ratio to that baseline, or an absolute figure.

    python bench/tickets.py                 # or: make bench-tickets
    python bench/tickets.py --port 8775 --database parque_marino_bench_tickets_dev \
        --redis-cache redis://127.0.0.1:6379/12 --redis-broker redis://127.0.0.1:6379/14
    python bench/tickets.py --rounds 5 --seconds 10 --purchase two-requests

Two servers run on one database: the API (config.wsgi, on --port) and the same API without
its audit trail (bench.wsgi_without_audit, on --port + 1). Each path writes to its own slot of
today (the hot slot, the baseline's slot, the gate slot, ...), so that each slot's rows can be
checked against the answers that path got. Measured parts run in rounds, each side once per
round, the order turning, so that a drift of the machine's speed hits every side; every round
is reported, the ratio of each round and their median.

A. purchases of one ticket: every wrk connection (one thread, its own visitor) buys again and
   again: in one request (POST orders/ with "pay") when the API accepts it (a probe decides,
   or --purchase), else create, then pay/. Sides: the API on the hot slot; the raw-SQL
   baseline (bench/baseline_tickets.py) on its slot; the API without audit on the hot slot.
   Confirmed purchases/s = paid answers / duration. The database must agree: paid orders =
   tickets = seats sold = confirmed seats = succeeded payments <= capacity on each slot, and
   the paid answers (plus those unanswered when wrk stopped) = paid orders. Then a slot of 200
   seats is sold to more buyers than seats, long enough to sell it twice at A's rate: exactly
   200 sold.
B. check-ins: tickets issued through the order services, each code scanned once by gate
   staff; the API, the raw-SQL baseline (its own slot's tickets), the API without audit;
   check-ins/s, and one check-in in the database per accepted scan, none twice.
C. availability: GET /api/v1/tickets/slots/?date=today against raw SQL + json.dumps returning
   the same JSON (bench/baseline_slots.py); requests/s.
D. the audit chain's cost: A's and B's API rounds, audited against without audit.
E. open loop (bench/openloop.py): check-ins, purchases and availability at a constant rate,
   half the closed-loop rate wrk measured for that request; latency from each request's
   scheduled start (median, p90, p99, max, p99/median) and the generator's own CPU.

While each part runs, PostgreSQL's backends are sampled (what they wait on, which statements
wait for locks) and the CPU each process group used is measured. When purchases miss the
target (or with --profile always), each request is then profiled in-process: its queries,
wall, CPU and SQL time, the row locks it holds until commit, where its CPU goes.

Needs PostgreSQL and Redis on 127.0.0.1 (as in CI) and wrk (installed from Debian if missing).
Every core counts on a small machine: it first waits (--wait-quiet) for other processes to
leave the CPU, and reports what else ran. Exits non-zero when anything was oversold or the
database disagrees with the answers; the speed targets are reported, not enforced.
"""

import argparse
import json
import math
import os
import re
import resource
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python bench/tickets.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import redis

from bench.common import (
    PORT,
    PYTHON,
    ROOT,
    bench_env,
    ensure_wrk,
    fetch,
    gunicorn,
    host_url,
    measure,
    prepare_database,
)

PURCHASE_LUA = """
-- One wrk thread per connection: request and response alternate strictly in each thread.
-- one_request: POST orders/ with "pay" (201 paid); else create (201), then pay/ (200 paid).
local tokens = {%(tokens)s}
local orders = "%(path)s"
local one_request = %(one_request)s
local line = '{"slot": %(slot)d, "ticket_type": %(ticket_type)d, "quantity": 1}'
local create_body = '{"lines": [' .. line .. ']}'
if one_request then create_body = '{"lines": [' .. line .. '], "pay": {"gateway": "sandbox"}}' end
local pay_body = '{"gateway": "sandbox"}'
local threads, started = {}, 0
local keys = {"created", "paid", "pending", "declined", "sold_out", "create_busy", "create_409",
              "create_other", "pay_busy", "pay_409", "pay_other"}

function setup(thread)
  started = started + 1
  thread:set("token", tokens[(started - 1) %% #tokens + 1])
  table.insert(threads, thread)
end

function init(args)
  headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  for _, key in ipairs(keys) do _G[key] = 0 end
  unpaid, in_flight, sample = nil, nil, nil
end

function request()
  if unpaid then
    in_flight = unpaid
    return wrk.format("POST", orders .. unpaid .. "/pay/", headers, pay_body)
  end
  in_flight = "create"
  return wrk.format("POST", orders, headers, create_body)
end

local function has(body, text) return string.find(body, text, 1, true) ~= nil end

function response(status, _headers, body)
  if in_flight == "create" then
    if status == 201 and one_request then
      created = created + 1
      if has(body, '"status":"paid"') then paid = paid + 1 else create_other = create_other + 1 end
    elseif status == 201 then
      created = created + 1
      unpaid = string.match(body, '"id":(%%d+)')
    elseif status == 202 then created = created + 1; pending = pending + 1
    elseif status == 402 then declined = declined + 1
    elseif status == 409 and has(body, '"sold_out"') then sold_out = sold_out + 1
    elseif status == 409 and has(body, '"busy"') then create_busy = create_busy + 1
    elseif status == 409 then create_409 = create_409 + 1
    else create_other = create_other + 1 end
  else
    if status == 200 and has(body, '"status":"paid"') then paid = paid + 1
    elseif status == 409 and has(body, '"busy"') then pay_busy = pay_busy + 1
    elseif status == 409 then pay_409 = pay_409 + 1
    else pay_other = pay_other + 1 end
    unpaid = nil
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
local path = "%(path)s"
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
  return wrk.format("POST", path, headers, '{"code": "' .. code .. '", "gate": "G1"}')
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


def wrk_script(wrk: str, script: str, connections: int, seconds: int, host: str) -> dict[str, Any]:
    """Run wrk with a Lua script (one thread per connection) against ``host``; its counters
    and its stats."""
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
                host,
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
    time.sleep(0.2)
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as db:
        while quiet < 3 and time.monotonic() < deadline:
            busy = db.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND state IN ('active', 'idle in transaction')",
                [database],
            ).fetchone()
            quiet = quiet + 1 if busy and busy[0] == 0 else 0
            time.sleep(0.05)


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


def _process_ticks(pid: int) -> int | None:
    """User + system ticks of a live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


@contextmanager
def observe(
    database: str, workers: set[int], idle_workers: frozenset[int] = frozenset()
) -> Iterator[dict[str, Any]]:
    """While the block runs: what PostgreSQL's backends of the run wait on (pg_stat_activity,
    sampled every 10 ms) and which processes use the CPU (``workers``: the measured server's;
    ``idle_workers``: the other server's, which should use none)."""
    result: dict[str, Any] = {}
    samples: Counter[str] = Counter()
    lock_queries: Counter[str] = Counter()
    stop = threading.Event()
    count = [0]
    # The CPU ticks of the run's backends, read while they live: a connection Django closes
    # meanwhile (CONN_MAX_AGE) takes its backend's ticks out of /proc when it ends.
    backend_ticks: dict[int, int] = {}

    def sample() -> None:
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as db:
            while not stop.is_set():
                rows = db.execute(
                    "SELECT pid, state, wait_event_type, wait_event, query FROM pg_stat_activity "
                    "WHERE datname = %s",
                    [database],
                ).fetchall()
                count[0] += 1
                if count[0] % 5 == 1:
                    for pid, *_ in rows:
                        used = _process_ticks(pid)
                        if used is not None:
                            backend_ticks[pid] = used
                for _pid, state, wait_type, wait, query in rows:
                    if state == "idle":
                        continue
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
        # The load generator (wrk, or bench/openloop.py) is this script's child, ended by now:
        # counted by getrusage, not in /proc.
        ticks["load generator"] = round(own_ticks(resource.RUSAGE_CHILDREN) - wrk_before)
        ticks["this script"] = round(own_ticks(resource.RUSAGE_SELF) - self_before)
        for pid, (name, used) in after.items():
            group = (
                "gunicorn workers"
                if pid in workers
                else "the other gunicorn's workers"
                if pid in idle_workers
                else "postgres, this run's backends"
                if name == "postgres" and f" {database} " in _cmdline(pid)
                else "postgres, its other processes"
                if name == "postgres"
                else "redis"
                if name.startswith("redis")
                else None
            )
            if group is not None:
                ticks[group] += used - (before[pid][1] if pid in before else 0)
        for pid, used in backend_ticks.items():
            if pid not in after:  # ended during the block: its ticks until last seen
                ticks["postgres, this run's backends"] += used - (
                    before[pid][1] if pid in before else 0
                )
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


def merged(observations: list[dict[str, Any]]) -> dict[str, Any]:
    """The mean of the observations of one phase's rounds (lock waits added up)."""
    count = len(observations) or 1
    result: dict[str, Any] = {"cpu_busy": sum(seen["cpu_busy"] for seen in observations) / count}
    for key in ("cpu_cores_used", "backends"):
        total: Counter[str] = Counter()
        for seen in observations:
            for name, value in seen[key].items():
                total[name] += value / count
        result[key] = dict(total.most_common())
    waits: Counter[str] = Counter()
    for seen in observations:
        waits.update(seen["lock_waits"])
    result["lock_waits"] = dict(waits.most_common(3))
    return result


def describe(observed: dict[str, Any], indent: str = "    ") -> list[str]:
    cpu = ", ".join(f"{name} {value:.2f}" for name, value in observed["cpu_cores_used"].items())
    backends = ", ".join(f"{name} {value:.2f}" for name, value in observed["backends"].items())
    lines = [
        f"{indent}CPU {observed['cpu_busy']:.0%} busy; cores used: {cpu}",
        f"{indent}PostgreSQL backends of the run, on average: {backends or 'none'}",
    ]
    for query, samples in observed["lock_waits"].items():
        lines.append(f"{indent}lock wait ({samples} samples): {query}")
    return lines


def describe_profile(profile: dict[str, Any]) -> str:
    lines = [
        "profile: each request in-process through the whole stack, one at a time (no "
        "contention), means of the runs; CPU is this one process's, SQL wait is the time inside "
        "database calls (round trip and PostgreSQL's work):"
    ]
    for name, one in profile.items():
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
    steps = [profile[name] for name in ("buy", "create", "pay") if name in profile]
    cpu = sum(step["cpu_ms"] for step in steps)
    slot = sum(step["locks_held_ms"].get("tickets_timeslot", 0) for step in steps)
    audit = sum(step["locks_held_ms"].get("audit_auditchainhead", 0) for step in steps)
    cores = os.cpu_count() or 1
    what = "buy" if "buy" in profile else "create + pay"
    lines.append(
        f"  ceilings of a purchase ({what}): {cpu:.1f} ms of Python CPU, so at most "
        f"{cores * 1000 / (cpu or 1):.0f}/s on {cores} cores before PostgreSQL and the load "
        f"generator take theirs; the hot slot's row locked {slot:.1f} ms, so at most "
        f"{1000 / (slot or 1):.0f}/s on one slot whatever the workers; the audit chain head "
        f"locked {audit:.1f} ms, so at most {1000 / (audit or 1):.0f}/s in the whole system"
    )
    return "\n".join(lines)


# --- Rounds ---------------------------------------------------------------------------------

ORDERS = "/api/v1/payments/orders/"
CHECK_INS = "/api/v1/tickets/check-ins/"
BASELINE_PURCHASES = "/bench/baseline/purchases/"
BASELINE_CHECK_INS = "/bench/baseline/check-ins/"


@dataclass
class Target:
    """One side of a comparison: what wrk sends (``script(seconds)``), to which server, and
    what its runs gave."""

    name: str
    host: str
    workers: set[int]
    idle_workers: frozenset[int]
    script: Callable[[int], str]
    warm: list[dict[str, Any]] = field(default_factory=list)  # counted, not reported
    runs: list[dict[str, Any]] = field(default_factory=list)
    observed: list[dict[str, Any]] = field(default_factory=list)
    audit_entries: list[int] = field(default_factory=list)

    def all_runs(self) -> list[dict[str, Any]]:
        return self.warm + self.runs

    def total(self, key: str) -> int:
        return sum(run.get(key, 0) for run in self.all_runs())


def audit_sequence(database: str) -> int:
    """How many audit entries the chain holds."""
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}") as db:
        row = db.execute("SELECT sequence FROM audit_auditchainhead WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def closed_rounds(
    wrk: str,
    targets: list[Target],
    *,
    rounds: int,
    seconds: int,
    warm_up: int,
    connections: int,
    database: str,
) -> None:
    """A warm-up of each target, then ``rounds`` rounds in which each target runs once, the
    order turning each round, so that a drift of the machine's speed hits every side."""
    for target in targets:
        if warm_up > 0:
            script = target.script(warm_up)
            target.warm.append(wrk_script(wrk, script, connections, warm_up, target.host))
    settle(database)
    for number in range(rounds):
        turn = number % len(targets)
        for target in targets[turn:] + targets[:turn]:
            script = target.script(seconds)
            before = audit_sequence(database)
            with observe(database, target.workers, target.idle_workers) as seen:
                target.runs.append(wrk_script(wrk, script, connections, seconds, target.host))
            settle(database)  # its last requests finish (their audit entries are its own)
            target.audit_entries.append(audit_sequence(database) - before)
            target.observed.append(seen)


class CodeSupply:
    """Ticket codes, each scanned once: consecutive slices, as many a second of each run."""

    def __init__(self, path: Path, planned_seconds: float, scratch: Path, name: str) -> None:
        self.codes = path.read_text().split()
        self.per_second = int(len(self.codes) // max(planned_seconds, 1))
        self.next, self.scratch, self.name, self.files = 0, scratch, name, 0

    def take(self, count: int) -> str:
        chunk = self.codes[self.next : self.next + count]
        self.next += len(chunk)
        self.files += 1
        path = self.scratch / f"codes-{self.name}-{self.files}.txt"
        path.write_text("".join(code + "\n" for code in chunk))
        return str(path)

    def for_seconds(self, seconds: int) -> str:
        return self.take(self.per_second * seconds)

    def left(self) -> int:
        return len(self.codes) - self.next


def post_json(url: str, token: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def shape(value: Any) -> Any:
    """The keys of a JSON answer, all the way down (lists: their first element's)."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def shape_difference(api: Any, baseline: Any, *, ignore: tuple[str, ...] = ()) -> str:
    """'' when both answers have the same keys (but ``ignore``'s at the top), else which."""
    if isinstance(api, dict) and isinstance(baseline, dict):
        api = {key: value for key, value in api.items() if key not in ignore}
        baseline = {key: value for key, value in baseline.items() if key not in ignore}
    if shape(api) == shape(baseline):
        return ""
    return f"API {json.dumps(shape(api))} != baseline {json.dumps(shape(baseline))}"


def choose_mode(
    requested: str, host: str, token: str, line: dict[str, int]
) -> tuple[str, str, Any]:
    """The purchase mode to run, why, and the API's answer of a paid purchase (the probe's)."""
    orders = f"{host}{ORDERS}"
    unpaid = None
    note = "asked for"
    if requested in ("auto", "one-request"):
        status, body = post_json(orders, token, {"lines": [line], "pay": {"gateway": "sandbox"}})
        bought = isinstance(body, dict) and body.get("payments")
        if status in (201, 202) and bought:
            return (
                "one-request",
                f"the probe's 1-ticket buy answered {status} {body['status']}",
                body,
            )
        if requested == "one-request":
            raise SystemExit(f"--purchase one-request: the API answered {status}: {body}")
        if status == 201 and isinstance(body, dict) and body.get("status") == "pending":
            unpaid = body["id"]  # created, "pay" ignored: paid below
            note = "the probe's buy answered 201 with a pending order: `pay` was ignored"
        elif status == 400:
            fields = [error.get("field") for error in (body or {}).get("errors", [])]
            note = f"the probe's 1-ticket buy answered 400 (fields {fields})"
        else:
            raise SystemExit(f"the one-request probe answered {status}: {body}")
    if unpaid is None:
        status, body = post_json(orders, token, {"lines": [line]})
        if status != 201:
            raise SystemExit(f"creating an order answered {status}: {body}")
        unpaid = body["id"]
    status, body = post_json(f"{orders}{unpaid}/pay/", token, {"gateway": "sandbox"})
    if status != 200:
        raise SystemExit(f"paying an order answered {status}: {body}")
    return "two-requests", note, body


def check_sales(
    failures: Failures,
    label: str,
    sales: dict[str, Any],
    runs: list[dict[str, Any]],
    *,
    one_request: bool,
) -> dict[str, Any]:
    """The database against the answers of ``runs``: paid orders = tickets = seats sold =
    confirmed seats = succeeded payments <= capacity, and the paid answers (plus those in
    flight) = paid orders. Returns the tallies."""
    paid = sum(run["paid"] for run in runs)
    created = sum(run["created"] for run in runs)
    unknown = sum(run["in_flight_creates"] for run in runs)
    socket_errors = sum(run["socket_errors"] for run in runs)
    for name in ("sold", "tickets", "confirmed_seats", "succeeded_payments"):
        failures.check(
            sales[name] == sales["paid_orders"],
            f"{label}: {name} {sales[name]} != paid orders {sales['paid_orders']}",
        )
    failures.check(sales["sold"] <= sales["capacity"], f"{label}: OVERSOLD {sales['sold']}")
    failures.check(
        sales["sold"] + sales["live_held_seats"] <= sales["capacity"],
        f"{label}: sold {sales['sold']} + held {sales['live_held_seats']} > capacity",
    )
    if socket_errors == 0:
        if one_request:
            failures.check(
                paid <= sales["paid_orders"] <= paid + unknown,
                f"{label}: {sales['paid_orders']} paid orders in the database, the answers "
                f"said {paid} paid (+ up to {unknown} unanswered)",
            )
        else:
            failures.check(
                sales["paid_orders"] == paid + sales["in_flight_paid"],
                f"{label}: {sales['paid_orders']} paid orders in the database, the answers "
                f"said {paid} paid (+{sales['in_flight_paid']} paid in flight)",
            )
        failures.check(
            created <= sales["orders"] <= created + unknown,
            f"{label}: {sales['orders']} orders in the database, {created} answered created",
        )
    unexpected = {
        key: sum(run[key] for run in runs)
        for key in (
            "create_other",
            "pay_other",
            "create_409",
            "pay_409",
            "declined",
            "pending",
        )
    }
    failures.check(not any(unexpected.values()), f"{label}: unexpected answers: {unexpected}")
    return {
        "paid": paid,
        "created": created,
        "unknown": unknown,
        "socket_errors": socket_errors,
        "busy": sum(run["create_busy"] + run["pay_busy"] for run in runs),
        "sold_out": sum(run["sold_out"] for run in runs),
    }


def check_admissions(
    failures: Failures, label: str, admitted: dict[str, Any], runs: list[dict[str, Any]]
) -> int:
    """The database against the scans of ``runs``: one check-in per accepted scan (plus those
    in flight), none twice. Returns the accepted scans."""
    accepted = sum(run["accepted"] for run in runs)
    failures.check(admitted["tickets_with_two"] == 0, f"{label}: a ticket was checked in twice")
    failures.check(
        admitted["check_ins"] == admitted["tickets_checked_in"],
        f"{label}: check-ins {admitted['check_ins']} != tickets checked in",
    )
    if sum(run["socket_errors"] for run in runs) == 0:
        failures.check(
            admitted["check_ins"] == accepted + admitted["in_flight_accepted"],
            f"{label}: {admitted['check_ins']} check-ins in the database, {accepted} scans "
            f"answered accepted (+{admitted['in_flight_accepted']} in flight)",
        )
    unexpected = {key: sum(run[key] for run in runs) for key in ("other", "already", "exhausted")}
    failures.check(not any(unexpected.values()), f"{label}: unexpected answers: {unexpected}")
    if unexpected["exhausted"]:
        failures.append(f"{label}: codes ran out: raise --check-in-tickets")
    return accepted


def ratio_table(
    rates: dict[str, list[float]], unit: str, pairs: list[tuple[str, str, str]]
) -> list[str]:
    """Every round of each side, and the ratio of each pair (name: numerator / denominator)
    per round and its median."""
    names = list(rates)
    width = max(11, *(len(name) + 2 for name in names))
    header = "  round " + "".join(f"{name:>{width}}" for name in names)
    header += "".join(f"{label:>{max(len(label) + 2, 9)}}" for label, _, _ in pairs)
    lines = [header + f"   ({unit})"]
    rounds = len(rates[names[0]])
    for number in range(rounds):
        line = f"  {number + 1:>5} " + "".join(
            f"{rates[name][number]:>{width}.1f}" for name in names
        )
        for label, top, bottom in pairs:
            line += f"{rates[top][number] / (rates[bottom][number] or math.nan):>{max(len(label) + 2, 9)}.2f}"
        lines.append(line)
    line = "  median" + "".join(f"{statistics.median(rates[name]):>{width}.1f}" for name in names)
    for label, top, bottom in pairs:
        ratios = [a / (b or math.nan) for a, b in zip(rates[top], rates[bottom], strict=True)]
        line += f"{statistics.median(ratios):>{max(len(label) + 2, 9)}.2f}"
    lines.append(line + "   (ratios: the median of the rounds' ratios)")
    return lines


def median_ratio(top: list[float], bottom: list[float]) -> float:
    return statistics.median(a / (b or math.nan) for a, b in zip(top, bottom, strict=True))


def verdict(value: float, target: float, *, at_most: bool = False) -> str:
    met = value <= target if at_most else value >= target
    return "met" if met else "NOT met"


def run_openloop(arguments: list[str]) -> dict[str, Any]:
    result = subprocess.run(
        [PYTHON, str(ROOT / "bench" / "openloop.py"), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        print(result.stderr[-4000:], file=sys.stderr)
        raise SystemExit("bench/openloop.py failed (its error is above)")
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=PORT, help="the API's; +1: without audit")
    parser.add_argument("--database", default="parque_marino_bench_tickets")
    parser.add_argument("--redis-cache", default="redis://127.0.0.1:6379/10")
    parser.add_argument(
        "--redis-broker",
        default="redis://127.0.0.1:6379/11",
        help="Celery's: paid orders queue their tickets' email here; nobody reads it",
    )
    parser.add_argument(
        "--purchase",
        choices=("auto", "one-request", "two-requests"),
        default="auto",
        help="auto: one request (create and pay) when the API accepts it, else two",
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of A, B, C")
    parser.add_argument("--seconds", type=int, default=7, help="a purchase round (A)")
    parser.add_argument("--check-in-seconds", type=int, default=5, help="a check-in round (B)")
    parser.add_argument("--round-seconds", type=int, default=6, help="an availability round (C)")
    parser.add_argument("--warm-up", type=int, default=2, help="seconds, before each side's rounds")
    parser.add_argument("--connections", type=int, default=16, help="for A and B")
    parser.add_argument("--visitors", type=int, default=64, help="buyers (one per connection)")
    parser.add_argument("--scarce-seats", type=int, default=200)
    parser.add_argument(
        "--scarce-seconds",
        type=int,
        default=0,
        help="scarce run (default: long enough to sell the seats twice at A's rate)",
    )
    parser.add_argument("--check-in-tickets", type=int, default=20_000, help="the API's (B, E)")
    parser.add_argument("--baseline-check-in-tickets", type=int, default=20_000)
    parser.add_argument("--availability-connections", type=int, default=16)
    parser.add_argument(
        "--open-loop",
        default="check-in,purchase,availability",
        help="E: which requests, comma-separated (empty: none)",
    )
    parser.add_argument("--open-loop-share", type=float, default=0.5, help="of the closed loop's")
    parser.add_argument("--open-loop-seconds", type=float, default=20)
    parser.add_argument("--open-loop-warm-up", type=float, default=3)
    parser.add_argument("--target", type=float, default=100.0, help="confirmed purchases/s")
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="in-process profile of the requests (auto: when purchases miss the target)",
    )
    parser.add_argument("--profile-repeat", type=int, default=50)
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=60,
        help="at most this many seconds to wait for other processes to leave the CPU",
    )
    parser.add_argument(
        "--migrate", action="store_true", help="migrate the database, not copy a migrated one"
    )
    options = parser.parse_args()
    if options.visitors < options.connections:
        parser.error("--visitors must be at least --connections (one buyer per connection)")
    options.open_loop = [kind for kind in options.open_loop.split(",") if kind]
    if set(options.open_loop) - {"check-in", "purchase", "availability"}:
        parser.error("--open-loop: check-in, purchase, availability")
    return options


class TicketsBench:
    """One run: the seeded database, the two servers, and what each part measured."""

    def __init__(self, options: argparse.Namespace, wrk: str, env: dict[str, str]) -> None:
        self.options, self.wrk, self.env = options, wrk, env
        self.database = options.database
        self.failures = Failures()
        self.scratch = Path(tempfile.mkdtemp(prefix="bench-tickets-"))
        self.api_host = host_url(options.port)
        self.bare_host = host_url(options.port + 1)
        self.seeded = db_command(
            env, "seed", "--visitors", options.visitors, "--scarce-capacity", options.scarce_seats
        )
        self.ticket_type = self.seeded["ticket_type"]
        credentials = db_command(env, "tokens")  # 15 minutes: the whole run
        self.visitors, self.gate_token = credentials["visitors"], credentials["gate"]
        (self.scratch / "tokens.txt").write_text("\n".join(self.visitors) + "\n")
        self.workers: set[int] = set()
        self.bare_workers: set[int] = set()
        self.mode, self.mode_note = "", ""

    # --- helpers -------------------------------------------------------------------------

    def slot(self, name: str) -> int:
        return int(self.seeded[f"{name}_slot"])

    def line(self, slot: int) -> dict[str, int]:
        return {"slot": slot, "ticket_type": self.ticket_type, "quantity": 1}

    @property
    def one_request(self) -> bool:
        return self.mode == "one-request"

    def target(self, name: str, script: Callable[[int], str]) -> Target:
        if name == "API without audit":
            return Target(name, self.bare_host, self.bare_workers, frozenset(self.workers), script)
        return Target(name, self.api_host, self.workers, frozenset(self.bare_workers), script)

    def purchases(self, slot: int, path: str, one_request: bool) -> Callable[[int], str]:
        script = PURCHASE_LUA % {
            "tokens": ", ".join(f'"{token}"' for token in self.visitors),
            "path": path,
            "one_request": "true" if one_request else "false",
            "slot": slot,
            "ticket_type": self.ticket_type,
        }
        return lambda _seconds: script

    def check_ins(self, path: str, supply: CodeSupply) -> Callable[[int], str]:
        def script(seconds: int) -> str:
            return CHECK_IN_LUA % {
                "token": self.gate_token,
                "path": path,
                "codes": supply.for_seconds(seconds),
                "threads": self.options.connections,
            }

        return script

    def rounds(self, targets: list[Target], seconds: int) -> None:
        closed_rounds(
            self.wrk,
            targets,
            rounds=self.options.rounds,
            seconds=seconds,
            warm_up=self.options.warm_up,
            connections=self.options.connections,
            database=self.database,
        )

    def verify(self, *arguments: object) -> dict[str, Any]:
        settle(self.database)
        result: dict[str, Any] = db_command(self.env, "verify", *arguments)
        return result

    # --- A. purchases: the API, the baseline, the API without audit ------------------------

    def part_a(self) -> None:
        options, failures = self.options, self.failures
        probe = self.slot("probe")
        self.mode, self.mode_note, api_order = choose_mode(
            options.purchase, self.api_host, self.visitors[0], self.line(probe)
        )
        status, baseline_order = post_json(
            f"{self.api_host}{BASELINE_PURCHASES}",
            self.visitors[0],
            {"lines": [self.line(probe)], "pay": {"gateway": "sandbox"}},
        )
        failures.check(status == 201, f"A: the baseline's purchase answered {status}")
        difference = shape_difference(api_order, baseline_order, ignore=("guest_token",))
        failures.check(not difference, f"A: the answers differ in shape: {difference}")
        hot, baseline_slot = self.slot("hot"), self.slot("baseline")
        self.buy = self.target("API", self.purchases(hot, ORDERS, self.one_request))
        self.buy_baseline = self.target(
            "baseline", self.purchases(baseline_slot, BASELINE_PURCHASES, True)
        )
        self.buy_bare = self.target(
            "API without audit", self.purchases(hot, ORDERS, self.one_request)
        )
        self.rounds([self.buy, self.buy_baseline, self.buy_bare], options.seconds)
        in_flight = [
            value
            for target in (self.buy, self.buy_bare)
            for run in target.all_runs()
            for value in run["in_flight"]
        ]
        verified = self.verify(
            "--purchases", hot, "--purchases", baseline_slot, "--in-flight", *in_flight
        )["purchases"]
        self.sales, self.baseline_sales = verified[str(hot)], verified[str(baseline_slot)]
        self.sold_hot = check_sales(
            failures,
            "A (hot slot)",
            self.sales,
            self.buy.all_runs() + self.buy_bare.all_runs(),
            one_request=self.one_request,
        )
        self.sold_baseline = check_sales(
            failures,
            "A (baseline's slot)",
            self.baseline_sales,
            self.buy_baseline.all_runs(),
            one_request=True,
        )
        self.purchase_rates = {
            target.name: [run["paid"] / options.seconds for run in target.runs]
            for target in (self.buy, self.buy_baseline, self.buy_bare)
        }
        self.purchases_per_second = statistics.median(self.purchase_rates["API"])

    def part_a_scarce(self) -> None:
        """A scarce slot: more buyers than seats, long enough to sell them twice."""
        options, failures, scarce = self.options, self.failures, self.slot("scarce")
        seats = options.scarce_seats
        self.scarce_seconds = options.scarce_seconds or min(
            120, max(10, math.ceil(2 * seats / max(self.purchases_per_second, 1)) + 2)
        )
        self.rush = wrk_script(
            self.wrk,
            self.purchases(scarce, ORDERS, self.one_request)(self.scarce_seconds),
            options.connections,
            self.scarce_seconds,
            self.api_host,
        )
        self.rushed = self.verify("--purchases", scarce, "--in-flight", *self.rush["in_flight"])[
            "purchases"
        ][str(scarce)]
        check_sales(
            failures, "A' (scarce slot)", self.rushed, [self.rush], one_request=self.one_request
        )
        failures.check(
            self.rushed["sold"] == seats,
            f"A': expected exactly {seats} sold: {self.rushed['sold']}",
        )
        failures.check(self.rush["sold_out"] > 0, "A': the demand never exceeded the seats")

    # --- B. check-ins: the API, the baseline, the API without audit ------------------------

    def part_b(self) -> None:
        options, failures, scratch = self.options, self.failures, self.scratch
        gate, baseline_gate = self.slot("gate"), self.slot("baseline_gate")
        codes = {name: scratch / f"codes-{name}.txt" for name in ("gate", "baseline", "probe")}
        self.issued = db_command(
            self.env,
            "issue",
            "--ticket-type",
            self.ticket_type,
            "--plan",
            f"{gate}:{options.check_in_tickets}:{codes['gate']}",
            "--plan",
            f"{baseline_gate}:{options.baseline_check_in_tickets}:{codes['baseline']}",
            "--plan",
            f"{self.slot('probe')}:2:{codes['probe']}",
        )
        first, second = codes["probe"].read_text().split()[:2]
        status, api_answer = post_json(
            f"{self.api_host}{CHECK_INS}", self.gate_token, {"code": first, "gate": "G1"}
        )
        failures.check(status == 201, f"B: the API's check-in answered {status}: {api_answer}")
        status, baseline_answer = post_json(
            f"{self.api_host}{BASELINE_CHECK_INS}", self.gate_token, {"code": second, "gate": "G1"}
        )
        failures.check(status == 201, f"B: the baseline's check-in answered {status}")
        difference = shape_difference(api_answer, baseline_answer)
        failures.check(not difference, f"B: the answers differ in shape: {difference}")
        open_loop = options.open_loop_warm_up + options.open_loop_seconds
        # Codes for every second of each run at one rate: wrk's on the gate slot, then the
        # open loop's (at a share of wrk's rate) from what is left.
        self.gate_supply = CodeSupply(
            codes["gate"],
            2 * options.warm_up
            + 2 * options.rounds * options.check_in_seconds
            + (options.open_loop_share * open_loop if "check-in" in options.open_loop else 0),
            scratch,
            "api",
        )
        baseline_supply = CodeSupply(
            codes["baseline"],
            options.warm_up + options.rounds * options.check_in_seconds,
            scratch,
            "baseline",
        )
        self.scan = self.target("API", self.check_ins(CHECK_INS, self.gate_supply))
        self.scan_baseline = self.target(
            "baseline", self.check_ins(BASELINE_CHECK_INS, baseline_supply)
        )
        self.scan_bare = self.target(
            "API without audit", self.check_ins(CHECK_INS, self.gate_supply)
        )
        self.rounds([self.scan, self.scan_baseline, self.scan_bare], options.check_in_seconds)
        in_flight = [
            code
            for target in (self.scan, self.scan_bare, self.scan_baseline)
            for run in target.all_runs()
            for code in run["in_flight"]
        ]
        verified = self.verify(
            "--check-ins", gate, "--check-ins", baseline_gate, "--in-flight", *in_flight
        )["check_ins"]
        self.admitted, self.admitted_baseline = verified[str(gate)], verified[str(baseline_gate)]
        check_admissions(
            failures,
            "B (gate slot)",
            self.admitted,
            self.scan.all_runs() + self.scan_bare.all_runs(),
        )
        check_admissions(
            failures,
            "B (baseline's gate slot)",
            self.admitted_baseline,
            self.scan_baseline.all_runs(),
        )
        self.check_in_rates = {
            target.name: [run["accepted"] / options.check_in_seconds for run in target.runs]
            for target in (self.scan, self.scan_baseline, self.scan_bare)
        }

    # --- C. availability against the baseline ------------------------------------------------

    def part_c(self) -> None:
        options, day = self.options, self.seeded["date"]
        self.reads = {
            "API": f"{self.api_host}/api/v1/tickets/slots/?date={day}",
            "baseline": f"{self.api_host}/bench/baseline/slots/?date={day}",
        }
        api, baseline = fetch(self.reads["API"]), fetch(self.reads["baseline"])
        if api["results"] != baseline["results"] or api["count"] != baseline["count"]:
            raise SystemExit(
                f"the baseline and the API do not return the same slots:\n{api}\n{baseline}"
            )
        self.slot_count = api["count"]
        self.availability_rates: dict[str, list[float]] = {"API": [], "baseline": []}
        self.read_observed: dict[str, list[dict[str, Any]]] = {"API": [], "baseline": []}
        connections = options.availability_connections
        for url in self.reads.values():
            if options.warm_up > 0:
                measure(self.wrk, url, options.warm_up, connections, warm_up=0)
        for number in range(options.rounds):
            for name in ["baseline", "API"] if number % 2 == 0 else ["API", "baseline"]:
                with observe(self.database, self.workers, frozenset(self.bare_workers)) as seen:
                    self.availability_rates[name].append(
                        measure(self.wrk, self.reads[name], options.round_seconds, connections, 0)
                    )
                self.read_observed[name].append(seen)

    # --- E. open loop at a share of each request's closed-loop rate ----------------------

    def part_e(self) -> None:
        options, failures = self.options, self.failures
        self.saturation = {
            "check-in": statistics.median(self.check_in_rates["API"]),
            "purchase": self.purchases_per_second,
            "availability": statistics.median(self.availability_rates["API"]),
        }
        self.open_results: dict[str, tuple[float, dict[str, Any], dict[str, Any]]] = {}
        seconds = options.open_loop_warm_up + options.open_loop_seconds
        for kind in options.open_loop:
            rate = options.open_loop_share * self.saturation[kind]
            arguments = [
                *("--port", str(options.port), "--rate", f"{rate:.3f}"),
                *("--seconds", str(options.open_loop_seconds)),
                *("--warm-up", str(options.open_loop_warm_up)),
            ]
            if kind == "check-in":
                needed, left = math.floor(rate * seconds), self.gate_supply.left()
                if left < needed:
                    failures.append(f"E: {left} codes left for {needed} check-ins")
                    continue
                codes = self.gate_supply.take(left)
                arguments += ["check-in", "--token", self.gate_token, "--codes", codes]
            elif kind == "purchase":
                arguments += [
                    *("purchase", "--tokens", str(self.scratch / "tokens.txt")),
                    *("--slot", str(self.slot("hot")), "--ticket-type", str(self.ticket_type)),
                    *("--mode", self.mode),
                ]
            else:
                arguments += ["get", "--path", f"/api/v1/tickets/slots/?date={self.seeded['date']}"]
            settle(self.database)
            with observe(self.database, self.workers, frozenset(self.bare_workers)) as seen:
                report = run_openloop(arguments)
            self.open_results[kind] = (rate, report, seen)
            expected = {"check-in": "accepted", "purchase": "paid", "availability": "ok"}[kind]
            odd = {
                outcome: count
                for outcome, count in report["outcomes"].items()
                if outcome not in (expected, "timeout")
            }
            failures.check(not odd, f"E ({kind}): unexpected answers: {odd}")
        if "check-in" in self.open_results or "purchase" in self.open_results:
            self.verify_open_loop()

    def verify_open_loop(self) -> None:
        """The open loop's writes, on the slots the closed loop left verified."""
        failures, hot, gate = self.failures, self.slot("hot"), self.slot("gate")
        verified = self.verify("--purchases", hot, "--check-ins", gate)
        if "purchase" in self.open_results:
            outcomes = self.open_results["purchase"][1]["outcomes"]
            after = verified["purchases"][str(hot)]
            for name in ("sold", "tickets", "confirmed_seats", "succeeded_payments"):
                failures.check(
                    after[name] == after["paid_orders"],
                    f"E (hot slot): {name} {after[name]} != paid orders {after['paid_orders']}",
                )
            failures.check(after["sold"] <= after["capacity"], "E (hot slot): OVERSOLD")
            new = after["paid_orders"] - self.sales["paid_orders"]
            paid = outcomes.get("paid", 0)
            unknown = sum(count for outcome, count in outcomes.items() if outcome != "paid")
            failures.check(
                paid <= new <= paid + unknown,
                f"E: {new} more paid orders on the hot slot, the open loop saw {paid} paid",
            )
        if "check-in" in self.open_results:
            outcomes = self.open_results["check-in"][1]["outcomes"]
            now = verified["check_ins"][str(gate)]
            new = now["check_ins"] - self.admitted["check_ins"]
            accepted = outcomes.get("accepted", 0)
            unknown = sum(count for outcome, count in outcomes.items() if outcome != "accepted")
            failures.check(
                now["tickets_with_two"] == 0 and now["check_ins"] == now["tickets_checked_in"],
                f"E: the gate slot's check-ins disagree: {now}",
            )
            failures.check(
                accepted <= new <= accepted + unknown,
                f"E: {new} more check-ins in the database, the open loop saw {accepted} accepted",
            )

    # --- The report -------------------------------------------------------------------------

    def print_writes(self, targets: tuple[Target, ...], counted: str, per: str) -> None:
        """Each side's answers, audit entries and CPU, over its rounds."""
        for target in targets:
            runs = target.runs
            done = sum(run[counted] for run in runs)
            unanswered = sum(
                run.get("in_flight_creates", 0) + len(run["in_flight"]) for run in runs
            )
            entries = sum(target.audit_entries)
            requests = statistics.mean(run["requests_per_second"] for run in runs)
            print(
                f"  {target.name}: {done} {counted} in the rounds (+{unanswered} unanswered when "
                f"wrk stopped, finished after), {requests:.1f} requests/s; latency "
                f"{'; '.join(run['latency'] for run in runs)}; {entries} audit entries "
                f"({entries / max(done + unanswered, 1):.2f} per {per})"
            )
            print(*describe(merged(target.observed)), sep="\n")

    def print_report(self, head: list[str]) -> None:
        options = self.options
        print(*head, sep="\n")
        print(f"  purchase mode: {self.mode} ({self.mode_note})")
        sales, baseline, sold_hot = self.sales, self.baseline_sales, self.sold_hot
        print(
            f"A. purchases of one ticket, {options.connections} connections x 1 visitor each, "
            f"{options.rounds} rounds of {options.seconds} s (after {options.warm_up} s of "
            f"warm-up each), the order turning: the API on the hot slot (capacity "
            f"{sales['capacity']:,}; "
            f"{'one request: create and pay' if self.one_request else 'create, then pay'}), "
            f"the raw-SQL baseline on its own slot (one request), the API without audit on "
            f"the hot slot"
        )
        pairs = [
            ("API/baseline", "API", "baseline"),
            ("audited/unaudited", "API", "API without audit"),
        ]
        print(*ratio_table(self.purchase_rates, "confirmed purchases/s", pairs), sep="\n")
        self.print_writes((self.buy, self.buy_baseline, self.buy_bare), "paid", "purchase")
        print(
            f"  409 answers on the hot slot: busy {sold_hot['busy']}; socket errors "
            f"{sold_hot['socket_errors'] + self.sold_baseline['socket_errors']}"
        )
        print(
            f"  database, hot slot: {sales['paid_orders']} paid orders = {sales['tickets']} "
            f"tickets = {sales['sold']} sold = {sales['confirmed_seats']} confirmed seats = "
            f"{sales['succeeded_payments']} succeeded payments (answers: {sold_hot['paid']} "
            f"paid, {sold_hot['unknown']} unanswered, {sales['in_flight_paid']} paid in "
            f"flight); oversold {max(sales['sold'] - sales['capacity'], 0)}"
        )
        print(
            f"  database, baseline's slot: {baseline['paid_orders']} paid orders = "
            f"{baseline['tickets']} tickets = {baseline['sold']} sold = "
            f"{baseline['confirmed_seats']} confirmed seats = {baseline['succeeded_payments']} "
            f"succeeded payments (answers: {self.sold_baseline['paid']} paid, "
            f"{self.sold_baseline['unknown']} unanswered)"
        )
        rushed, seats = self.rushed, options.scarce_seats
        print(
            f"  scarce slot (the API), {seats} seats, {options.connections} buyers for "
            f"{self.scarce_seconds} s: {rushed['sold']} sold = {rushed['tickets']} tickets = "
            f"{rushed['paid_orders']} paid orders; {self.rush['sold_out']} sold_out answers; "
            f"oversold {max(rushed['sold'] - seats, 0)}"
        )
        print(
            f"B. check-ins: {self.issued['issued']:,} tickets issued through the services "
            f"({self.issued['orders']} orders, {self.issued['seconds']} s); each code scanned "
            f"once; {options.connections} connections, {options.rounds} rounds of "
            f"{options.check_in_seconds} s, the order turning: the API (gate slot), the raw-SQL "
            f"baseline (its own slot), the API without audit (gate slot)"
        )
        print(*ratio_table(self.check_in_rates, "check-ins/s", pairs), sep="\n")
        self.print_writes((self.scan, self.scan_baseline, self.scan_bare), "accepted", "check-in")
        print(
            f"  database: gate slot {self.admitted['check_ins']} check-ins, baseline's gate slot "
            f"{self.admitted_baseline['check_ins']}; "
            f"{self.admitted['tickets_with_two']} tickets checked in twice"
        )
        print(
            f"C. availability, {self.slot_count} slots of {self.seeded['date']}, "
            f"{options.availability_connections} connections, {options.rounds} rounds of "
            f"{options.round_seconds} s, the order turning"
        )
        print(
            *ratio_table(self.availability_rates, "requests/s", pairs[:1]),
            sep="\n",
        )
        for name in ("API", "baseline"):
            print(f"  {name}:")
            print(*describe(merged(self.read_observed[name])), sep="\n")
        print("D. what the audit chain costs: the same API writes with and without audit (A, B)")
        for label, rates in (
            ("purchases", self.purchase_rates),
            ("check-ins", self.check_in_rates),
        ):
            ratio = median_ratio(rates["API"], rates["API without audit"])
            print(
                f"  {label}/s audited {statistics.median(rates['API']):.1f}, without audit "
                f"{statistics.median(rates['API without audit']):.1f}: ratio {ratio:.2f} "
                f"(target >= 0.8: {verdict(ratio, 0.8)})"
            )
        self.print_open_loop()
        self.print_targets()

    def print_open_loop(self) -> None:
        options = self.options
        if not self.open_results:
            return
        print(
            f"E. open loop (bench/openloop.py): a constant rate, {options.open_loop_share:.0%} "
            f"of the closed-loop rate wrk measured above; {options.open_loop_warm_up:g} s of "
            f"warm-up, then {options.open_loop_seconds:g} s measured; latency from each "
            f"request's scheduled start"
        )
        print(
            "  request       closed loop/s  offered/s  sent/s  done/s   median      p90      "
            "p99      max  p99/median  generator CPU"
        )
        for kind, (rate, report, _seen) in self.open_results.items():
            ms = report["latency_ms"]
            print(
                f"  {kind:<12} {self.saturation[kind]:>14.1f} {rate:>10.1f} "
                f"{report['sent_per_second']:>7.1f} {report['completed_per_second']:>7.1f} "
                f"{ms['median']:>7.1f}ms {ms['p90']:>7.1f}ms {ms['p99']:>7.1f}ms "
                f"{ms['max']:>7.1f}ms {report['p99_over_median']:>10.2f}  "
                f"{report['cpu_cores']:.2f} cores"
            )
        for kind, (_rate, report, seen) in self.open_results.items():
            lag, used = report["start_lag_ms"], report["connections"]
            print(
                f"  {kind}: answers {report['outcomes']}; the generator used "
                f"{report['cpu_seconds']:.1f} s of CPU ({report['cpu_cores']:.2f} cores) and "
                f"started requests late by p99 {lag['p99']:.1f} ms, max {lag['max']:.1f} ms; "
                f"connections opened {used['opened']}, reused {used['reused']}, at most "
                f"{used['peak_open']} open, {used['requests_that_waited_for_one']} requests "
                f"waited for one"
            )
            print(*describe(seen), sep="\n")

    def print_targets(self) -> None:
        purchases, check_ins = self.purchase_rates, self.check_in_rates
        availability = self.availability_rates
        print("Targets (ratios: the medians of the rounds' ratios):")
        ratios = [
            ("A. purchases/s, API / raw-SQL baseline", purchases, "baseline", 0.35),
            ("B. check-ins/s, API / raw-SQL baseline", check_ins, "baseline", 0.4),
            ("C. availability, API / raw-SQL baseline", availability, "baseline", 0.5),
            ("D. purchases/s, audited / without audit", purchases, "API without audit", 0.8),
            ("D. check-ins/s, audited / without audit", check_ins, "API without audit", 0.8),
        ]
        for label, rates, bottom, goal in ratios:
            value = median_ratio(rates["API"], rates[bottom])
            print(f"  {label:<44} {value:6.2f}  (>= {goal}: {verdict(value, goal)})")
        for kind, (_rate, report, _seen) in self.open_results.items():
            value = report["p99_over_median"]
            label = f"E. p99/median, open loop, {kind}"
            print(f"  {label:<44} {value:6.2f}  (<= 4: {verdict(value, 4, at_most=True)})")
        value, goal = self.purchases_per_second, self.options.target
        label = "F. confirmed purchases/s (the API's median)"
        print(f"  {label:<44} {value:6.1f}  (>= {goal:.0f}: {verdict(value, goal)})")

    def samples(self) -> list[str]:
        targets = (self.buy, self.buy_baseline, self.buy_bare, self.scan, self.scan_baseline)
        return [
            sample
            for target in (*targets, self.scan_bare)
            for run in target.all_runs()
            for sample in run["samples"]
        ] + self.rush["samples"]


def main() -> None:
    options = parse_options()
    command = shlex.join(["python", "bench/tickets.py", *sys.argv[1:]])
    wrk = ensure_wrk()
    env = bench_env(
        options.database,
        REDIS_URL=options.redis_cache,
        CELERY_BROKER_URL=options.redis_broker,
        PAYMENT_GATEWAYS="sandbox",
        PAYMENTS_SANDBOX_WEBHOOK_SECRET=secrets.token_urlsafe(32),
        JWT_ACCESS_MINUTES="15",
    )
    for url in (options.redis_cache, options.redis_broker):
        redis.Redis.from_url(url).flushdb()
    load_before = os.getloadavg()
    busy, waited = wait_for_quiet(options.wait_quiet)
    started = time.perf_counter()
    prepare_database(env, options.database, fresh=True, template=not options.migrate)
    bench = TicketsBench(options, wrk, env)
    scratch = bench.scratch
    # 409 answers are logged as warnings, as in production: to files, not the terminal.
    with (
        gunicorn(env, output=scratch / "gunicorn.log", port=options.port) as server,
        gunicorn(
            env,
            output=scratch / "gunicorn-without-audit.log",
            port=options.port + 1,
            module="bench.wsgi_without_audit",
        ) as bare_server,
    ):
        bench.workers.update(worker_pids(server))
        bench.bare_workers.update(worker_pids(bare_server))
        bench.part_a()
        bench.part_a_scarce()
        bench.part_b()
        bench.part_c()
        bench.part_e()
    elapsed = time.perf_counter() - started  # without the profile
    load_after = os.getloadavg()

    def loads(values: tuple[float, float, float]) -> str:
        return " ".join(f"{value:.2f}" for value in values)

    print()
    bench.print_report(
        [
            f"tickets benchmark: gunicorn -w 2 (sync workers), production settings, PostgreSQL "
            f"+ Redis, {os.cpu_count()} cores, {elapsed:.0f} s in all; before it, CPU "
            f"{busy:.0%} busy (waited {waited:.0f} s); load average {loads(load_before)} "
            f"before, {loads(load_after)} after",
            f"  command: {command}",
            f"  servers: the API on :{options.port} (config.wsgi), the API without audit on "
            f":{options.port + 1} (bench.wsgi_without_audit), both on database "
            f"{options.database}; Redis cache {options.redis_cache}, broker "
            f"{options.redis_broker}",
        ]
    )
    sys.stdout.flush()  # the numbers above stand even if profiling fails
    if options.profile == "always" or (
        options.profile == "auto" and bench.purchases_per_second < options.target
    ):
        profile = db_command(
            env,
            "profile",
            *("--slot", bench.slot("hot"), "--codes-slot", bench.slot("gate")),
            *("--ticket-type", bench.ticket_type, "--date", bench.seeded["date"]),
            *("--repeat", options.profile_repeat, "--purchase", bench.mode),
        )
        print(describe_profile(profile))
    redis.Redis.from_url(options.redis_broker).flushdb()  # the tickets' emails nobody will send
    for sample in bench.samples()[:10]:
        print(f"  sample answer: {sample}")
    for log in sorted(scratch.glob("gunicorn*.log")):
        print(f"  gunicorn's output: {log} ({log.read_text().count(chr(10))} lines)")
    if bench.failures:
        print("FAILED:", *bench.failures, sep="\n  ")
        raise SystemExit(1)
    print("OK: nothing oversold; the database agrees with every answer")


if __name__ == "__main__":
    main()
