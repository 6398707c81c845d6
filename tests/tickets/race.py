"""A harness that races many buyers through the real HTTP API from several OS processes.

Each process forks from the test (inheriting its settings, test database and any
monkeypatching), starts its share of threads, and every thread — one database connection each —
waits at a barrier until all threads of all processes are ready, then calls the API through
Django's test client with its own bearer token. Answers come back over a queue.

``slow_check`` widens the window between reading availability and writing the hold, in the
locked run and the control run alike: with the slot lock the checks queue up behind it; without
it they overlap, which is what makes the control run oversell every time instead of sometimes.
"""

import multiprocessing
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.test import Client

Action = Callable[[Client], tuple[str, int, str]]


def _run_threads(actions: Sequence[Action], start: Any, queue: Any) -> None:
    ready = threading.Barrier(len(actions) + 1)
    results: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def worker(action: Action) -> None:
        client = Client()
        ready.wait()
        start.wait()
        try:
            outcome = action(client)
        except Exception as error:  # reported to the test, which fails on it
            outcome = ("error", 0, "".join(traceback.format_exception(error))[-1500:])
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    ready.wait()
    for thread in threads:
        thread.join()
    queue.put(results)


def race(actions: Sequence[Action], *, processes: int = 2) -> list[tuple[str, int, str]]:
    """Run ``actions`` at the same moment, split over ``processes`` processes."""
    # Middleware registers its metrics on first use; do it once here, not in 80 threads at once.
    Client().get("/health/live/")
    connections.close_all()  # never share a connection with a forked child
    context = multiprocessing.get_context("fork")
    start = context.Event()
    queue = context.Queue()
    shares = [actions[index::processes] for index in range(processes)]
    children = [
        context.Process(target=_run_threads, args=(share, start, queue)) for share in shares
    ]
    for child in children:
        child.start()
    time.sleep(0.5)  # let every thread connect and reach its barrier
    start.set()
    results: list[tuple[str, int, str]] = []
    for _child in children:
        results += queue.get(timeout=120)
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0
    return results


def post_retrying(client: Client, url: str, body: dict[str, Any], token: str) -> Any:
    """POST like a well-behaved client: wait ``Retry-After`` on 409 ``busy`` and try again."""
    for _attempt in range(20):
        response = client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        if response.status_code == 409 and response.json().get("code") == "busy":
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        return response
    return response
