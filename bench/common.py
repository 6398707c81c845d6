"""What the benchmarks share: the environment of a production-like run, its PostgreSQL
database, gunicorn (2 workers, production settings) and wrk."""

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
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
PORT = 8765  # the default; a benchmark may take another (--port) so that two can run at once
HOST = f"http://127.0.0.1:{PORT}"


def host_url(port: int = PORT) -> str:
    """The base URL of a server of this machine on ``port``."""
    return f"http://127.0.0.1:{port}"


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


def measure(wrk: str, url: str, seconds: int, connections: int, warm_up: int = 3) -> float:
    """Requests/s of GET ``url`` (a full URL: any host and port), after ``warm_up`` seconds of
    the same; any non-2xx answer stops the run."""
    if warm_up > 0:
        subprocess.run(
            [wrk, "-t2", f"-c{connections}", f"-d{warm_up}s", url], check=True, capture_output=True
        )
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


def prepare_database(
    env: dict[str, str], name: str, *, fresh: bool = False, template: bool = False
) -> None:
    """Create ``name`` (dropped first when ``fresh``) and migrate it.

    With ``template`` (and ``fresh``), the new database is a copy (``createdb -T``) of
    ``<name>_migrated``, a database migrated once and kept: migrating takes most of half a
    minute, a copy a second. The template is migrated anew whenever a migration file or the
    locked dependencies change (their digest is its comment)."""
    if fresh:
        run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", name], env)
    if fresh and template:
        source, digest = f"{name}_migrated", _migrations_digest()
        comment = _psql(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            f"WHERE datname = '{source}'"
        )
        if comment != digest:
            prepare_database(
                {**env, "DATABASE_URL": env["DATABASE_URL"].rsplit("/", 1)[0] + f"/{source}"},
                source,
                fresh=True,
            )
            _psql(f"COMMENT ON DATABASE {source} IS '{digest}'")
        run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "-T", source, name], env)
        return
    if not _psql(f"SELECT 1 FROM pg_database WHERE datname='{name}'"):
        run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], env)
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env)


def _migrations_digest() -> str:
    """What a migrated database depends on: the project's migrations, the locked packages."""
    digest = hashlib.sha256()
    files = [*sorted(ROOT.glob("apps/**/migrations/*.py")), ROOT / "uv.lock"]
    for path in files:
        if path.exists():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@contextmanager
def gunicorn(
    env: dict[str, str],
    workers: int = 2,
    output: Path | None = None,
    *,
    port: int | None = None,
    module: str = "config.wsgi",
) -> Iterator[subprocess.Popen]:
    """gunicorn serving ``module`` on ``port`` (PORT by default), up (health answered) until
    the block ends; its output goes to ``output`` when given."""
    port = PORT if port is None else port
    try:  # never measure somebody else's server by mistake
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        pass
    else:
        raise SystemExit(f"port {port} is taken by another server: choose another (--port)")
    log = output.open("a") if output is not None else None
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            module,
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        for _ in range(150):
            if server.poll() is not None:
                raise SystemExit(f"gunicorn ({module} on port {port}) exited: {server.returncode}")
            try:
                fetch(f"{host_url(port)}/health/live/")
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"gunicorn ({module} on port {port}) never answered its health check")
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)
        if log is not None:
            log.close()
