"""Helpers for the tests that start the service's own processes (workers, gunicorn) on the
test's database: its URL, and stopping or killing a process with all of its children."""

import contextlib
import os
import signal
import subprocess

from django.db import connection


def database_url() -> str:
    """The test's database (PostgreSQL or MySQL/MariaDB), for a process of its own."""
    db = connection.settings_dict
    if connection.vendor == "mysql":
        scheme, default_user, default_port = "mysql", "root", 3306
    else:
        scheme, default_user, default_port = "postgres", "postgres", 5432
    user = db.get("USER") or default_user
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"{scheme}://{user}{password}@{host}:{db.get('PORT') or default_port}/{db['NAME']}"


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL to the process and its children at once (it was started with
    ``start_new_session``): a machine or container that dies, not a child its parent would
    see go."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the group, SIGKILL after 30 s; children left by a dead parent are killed."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill_group(process)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
