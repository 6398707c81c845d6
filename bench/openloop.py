"""An open-loop load generator: requests start at a constant rate, whatever the server does,
and each one's latency runs from the moment it was scheduled to start (no coordinated
omission: a server that stalls makes every request scheduled meanwhile late, and they all
count so).

    python bench/openloop.py --port 8775 --rate 50 --seconds 20 --warm-up 3 get --path /health/live/
    python bench/openloop.py ... check-in --token JWT --codes codes.txt
    python bench/openloop.py ... purchase --tokens tokens.txt --slot 1 --ticket-type 1 --mode one-request

Plain asyncio and HTTP/1.1 over asyncio streams, standard library only. Connections are kept
alive when the server allows it and reused; a request that finds none idle opens its own
(gunicorn's sync workers close every connection after its answer, so there each request opens
one, as a real client of that deployment does). Connections are capped (``--max-connections``);
a request that has to wait for one still counts from its scheduled time, and the waits are
reported. The last line printed is one JSON object: latencies of the requests scheduled after
the warm-up (median, p90, p99, max), the rate achieved, the answers, the generator's own CPU
(on a small machine it competes with the server) and how late it was to start requests.
"""

import argparse
import asyncio
import json
import math
import resource
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

Answer = tuple[int, bytes]
Send = Callable[[str, str, dict[str, str], bytes], Awaitable[Answer]]
Scenario = Callable[[int, Send], Awaitable[str]]


class Client:
    """HTTP/1.1 to one host and port, over connections it keeps while the server does."""

    def __init__(self, host: str, port: int, max_connections: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(max_connections)
        self.opened = self.reused = self.waited = self.open_now = self.peak = 0

    async def send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        if self.idle:
            reader, writer = self.idle.pop()
            self.reused += 1
            try:
                return await self._exchange(reader, writer, raw)
            except _StaleConnection:
                pass  # the server closed it while idle: a new one, below
        if self.slots.locked():
            self.waited += 1
        async with self.slots:
            self.open_now += 1
            self.peak = max(self.peak, self.open_now)
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
                self.opened += 1
                return await self._exchange(reader, writer, raw)
            finally:
                self.open_now -= 1

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
    ) -> Answer:
        keep = False
        try:
            writer.write(raw)
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                raise _StaleConnection
            version, status, *_ = status_line.decode("latin-1").split(" ", 2)
            headers: dict[str, str] = {}
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                body = await _chunked(reader)
            else:
                body = await reader.read()  # until the server closes
            keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
            keep = keep and ("content-length" in headers or "transfer-encoding" in headers)
            return int(status), body
        except (ConnectionResetError, BrokenPipeError) as error:
            raise _StaleConnection from error
        finally:
            if keep:
                self.idle.append((reader, writer))
            else:
                writer.close()


class _StaleConnection(Exception):
    pass


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readline()


def _json_headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def get_scenario(path: str) -> Scenario:
    async def one(_n: int, send: Send) -> str:
        status, _ = await send("GET", path, {}, b"")
        return "ok" if status == 200 else f"status {status}"

    return one


def check_in_scenario(token: str, codes: list[str], gate: str) -> Scenario:
    headers = _json_headers(token)

    async def one(n: int, send: Send) -> str:
        if n >= len(codes):
            return "no code left"
        body = json.dumps({"code": codes[n], "gate": gate}).encode()
        status, answer = await send("POST", "/api/v1/tickets/check-ins/", headers, body)
        if status == 201:
            return "accepted"
        if status == 409 and b'"already_checked_in"' in answer:
            return "already checked in"
        return f"status {status}"

    return one


def purchase_scenario(tokens: list[str], slot: int, ticket_type: int, mode: str) -> Scenario:
    """One ticket: one request (create and pay) or two (create, then pay)."""
    orders = "/api/v1/payments/orders/"
    line = {"slot": slot, "ticket_type": ticket_type, "quantity": 1}
    pay = {"gateway": "sandbox"}
    one_body = json.dumps({"lines": [line], "pay": pay}).encode()
    create_body, pay_body = json.dumps({"lines": [line]}).encode(), json.dumps(pay).encode()

    def refused(status: int, answer: bytes, step: str) -> str:
        if status == 409:
            for code in (b"sold_out", b"busy"):
                if b'"' + code + b'"' in answer:
                    return code.decode()
        return f"{step} status {status}"

    async def one(n: int, send: Send) -> str:
        headers = _json_headers(tokens[n % len(tokens)])
        if mode == "one-request":
            status, answer = await send("POST", orders, headers, one_body)
            if status == 201 and b'"status":"paid"' in answer:
                return "paid"
            if status == 202:
                return "pending"
            return refused(status, answer, "buy")
        status, answer = await send("POST", orders, headers, create_body)
        if status != 201:
            return refused(status, answer, "create")
        order = json.loads(answer)["id"]
        status, answer = await send("POST", f"{orders}{order}/pay/", headers, pay_body)
        if status == 200 and b'"status":"paid"' in answer:
            return "paid"
        return refused(status, answer, "pay")

    return one


def _percentile(ordered: list[float], share: float) -> float:
    """Nearest rank."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


async def run(
    *,
    host: str,
    port: int,
    rate: float,
    seconds: float,
    warm_up: float,
    scenario: Scenario,
    timeout: float,
    max_connections: int,
) -> dict[str, Any]:
    """Start ``rate`` scenarios a second for ``warm_up + seconds``; the report covers those
    scheduled after the warm-up (answers: all of them too)."""
    client = Client(host, port, max_connections)
    loop = asyncio.get_running_loop()
    begin = loop.time() + 0.1
    window_start = begin + warm_up
    total = math.floor((warm_up + seconds) * rate)
    latencies: list[float] = []
    lags: list[float] = []
    outcomes: Counter[str] = Counter()
    measured_outcomes: Counter[str] = Counter()
    sent_in_window = [0]
    finished_last = [window_start]

    async def one(n: int, scheduled: float) -> None:
        started = loop.time()
        measured = scheduled >= window_start
        if measured:
            lags.append(started - scheduled)
            sent_in_window[0] += 1
        try:
            outcome = await asyncio.wait_for(scenario(n, client.send), timeout)
        except TimeoutError:
            outcome = "timeout"
        except (OSError, asyncio.IncompleteReadError, _StaleConnection, ValueError) as error:
            outcome = f"error {type(error).__name__}"
        finished = loop.time()
        outcomes[outcome] += 1
        if measured:
            measured_outcomes[outcome] += 1
            latencies.append(finished - scheduled)
            finished_last[0] = max(finished_last[0], finished)

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.perf_counter()
    tasks = []
    for n in range(total):
        scheduled = begin + n / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n, scheduled)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - wall_before
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    latencies.sort()
    lags.sort()
    median = _percentile(latencies, 0.5)
    p99 = _percentile(latencies, 0.99)
    window = total / rate - warm_up  # scheduled span of the measured requests
    return {
        "rate": rate,
        "seconds": seconds,
        "warm_up": warm_up,
        "scheduled": total,
        "measured": len(latencies),
        "sent_per_second": sent_in_window[0] / window if window > 0 else math.nan,
        "completed_per_second": len(latencies) / max(finished_last[0] - window_start, 1e-9),
        "latency_ms": {
            "median": median * 1000,
            "p90": _percentile(latencies, 0.9) * 1000,
            "p99": p99 * 1000,
            "max": (latencies[-1] if latencies else math.nan) * 1000,
        },
        "p99_over_median": p99 / median if median else math.nan,
        "start_lag_ms": {"p99": _percentile(lags, 0.99) * 1000, "max": (lags or [0])[-1] * 1000},
        "outcomes": dict(outcomes),
        "measured_outcomes": dict(measured_outcomes),
        "connections": {
            "opened": client.opened,
            "reused": client.reused,
            "peak_open": client.peak,
            "requests_that_waited_for_one": client.waited,
        },
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "cpu_cores": cpu / wall if wall else math.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rate", type=float, required=True, help="requests (scenarios) a second")
    parser.add_argument("--seconds", type=float, default=20, help="measured, after the warm-up")
    parser.add_argument("--warm-up", type=float, default=3)
    parser.add_argument("--timeout", type=float, default=30, help="per scenario")
    parser.add_argument("--max-connections", type=int, default=1000)
    kinds = parser.add_subparsers(dest="kind", required=True)
    get = kinds.add_parser("get")
    get.add_argument("--path", required=True)
    check_in = kinds.add_parser("check-in")
    check_in.add_argument("--token", required=True)
    check_in.add_argument("--codes", required=True, help="a file, one code a line, each used once")
    check_in.add_argument("--gate", default="G3")
    purchase = kinds.add_parser("purchase")
    purchase.add_argument("--tokens", required=True, help="a file, one access token a line")
    purchase.add_argument("--slot", type=int, required=True)
    purchase.add_argument("--ticket-type", type=int, required=True)
    purchase.add_argument("--mode", choices=("one-request", "two-requests"), required=True)
    options = parser.parse_args()
    if options.rate <= 0:
        parser.error("--rate must be positive")
    scenario: Scenario
    if options.kind == "get":
        scenario = get_scenario(options.path)
    elif options.kind == "check-in":
        codes = Path(options.codes).read_text().split()
        needed = math.floor((options.warm_up + options.seconds) * options.rate)
        if len(codes) < needed:
            parser.error(f"{len(codes)} codes for {needed} check-ins")
        scenario = check_in_scenario(options.token, codes, options.gate)
    else:
        tokens = Path(options.tokens).read_text().split()
        scenario = purchase_scenario(tokens, options.slot, options.ticket_type, options.mode)
    report = asyncio.run(
        run(
            host=options.host,
            port=options.port,
            rate=options.rate,
            seconds=options.seconds,
            warm_up=options.warm_up,
            scenario=scenario,
            timeout=options.timeout,
            max_connections=options.max_connections,
        )
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
