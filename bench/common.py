"""What the benchmarks share: the environment of a production-like run, its PostgreSQL
database, gunicorn (2 workers, production settings) and wrk."""

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PORT = 8765
HOST = f"http://127.0.0.1:{PORT}"


def run(command: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, check=True, text=True, **kwargs)  # type: ignore[call-overload]


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return shutil.which("wrk") or "wrk"


def fetch(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def measure(wrk: str, url: str, seconds: int, connections: int) -> float:
    """Requests/s of GET ``url`` (after a 3 s warm-up); any non-2xx answer stops the run."""
    subprocess.run(
        [wrk, "-t2", f"-c{connections}", "-d3s", url], check=True, capture_output=True
    )  # warm-up
    result = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", url],
        check=True,
        capture_output=True,
        text=True,
    )
    if "Non-2xx" in result.stdout:
        raise SystemExit(f"errors while measuring {url}:\n{result.stdout}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]


def bench_env(database: str, **extra: str) -> dict[str, str]:
    """Production settings (bench.settings) on ``database``, Redis, quiet logs."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
        # Production requires a broker; benchmarks that queue no task never read this one.
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/10",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="bench-media-"),
        "STATIC_ROOT": tempfile.mkdtemp(prefix="bench-static-"),
        "LOG_LEVEL": "WARNING",
        # The figures are of the database path: wrk repeats one URL, which the read cache
        # (docs/adr/0043) would answer from Redis after the first request.
        "READ_CACHE_SECONDS": "0",
        "SELLER_LEGAL_NAME": "Parque Marino (bench)",
        "SELLER_TAX_ID": "0-000-000000",
        "SELLER_ADDRESS": "127.0.0.1",
        **extra,
    }


def _psql(sql: str) -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc", sql],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def prepare_database(env: dict[str, str], name: str, *, fresh: bool = False) -> None:
    """Create ``name`` (dropped first when ``fresh``) and migrate it."""
    if fresh:
        run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", name], env)
    if not _psql(f"SELECT 1 FROM pg_database WHERE datname='{name}'"):
        run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], env)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env)


@contextmanager
def gunicorn(
    env: dict[str, str], workers: int = 2, output: Path | None = None
) -> Iterator[subprocess.Popen]:
    """gunicorn serving config.wsgi on PORT, up (health answered) until the block ends; its
    output goes to ``output`` when given."""
    log = output.open("w") if output is not None else None
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "config.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        for _ in range(50):
            try:
                fetch(f"{HOST}/health/live/")
                break
            except OSError:
                time.sleep(0.2)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)
        if log is not None:
            log.close()
