"""What a developer's console shows: one line per email, one line per request, progress that
suits where it goes, and no warnings about a broker that eager tasks never use."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.support.common.demo import DemoStep
from apps.support.common.management.commands import seed_demo
from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent

# Run with the development settings in a process of its own: its console is exactly what a
# developer sees (pytest hangs handlers of its own on loggers).
DEVELOPMENT_CONSOLE = """
import logging, django
django.setup()
from apps.support.common.tasks import send_email

def runserver(level, message, *args):
    extra = {"request": None, "server_time": "30/Nov/2026 21:42:10", "status_code": 404}
    logging.getLogger("django.server").log(level, message, *args, extra=extra)

runserver(logging.INFO, '"%s" %s %s', "GET /api/v1/ HTTP/1.1", "200", "312")
runserver(logging.WARNING, '"%s" %s %s', "GET /nowhere/ HTTP/1.1", "404", "3340")
runserver(logging.ERROR, '"%s" %s %s', "GET /boom/ HTTP/1.1", "500", "145")
runserver(logging.ERROR, "You're accessing the development server over HTTPS, but it only "
          "supports HTTP.")
logging.getLogger("django.utils.autoreload").info("Watching for file changes with StatReloader")
logging.getLogger("django.request").error("Internal Server Error: /boom/")
send_email.delay(subject="Hola", body="Bienvenida", to=["ana@example.org"]).get()
logging.getLogger("wagtail").info("Edited snippet 'Arrecife' (12)")
logging.getLogger("wagtail").error("A failure of Wagtail is still shown")
"""


def test_the_development_console_shows_each_thing_once():
    result = subprocess.run(
        [sys.executable, "-c", DEVELOPMENT_CONSOLE],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMAIL_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.development",
            "CELERY_BROKER_URL": "",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "INFO",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'Email to ana@example.org: "Hola"\n'
    # Each line without its time stamp: no runserver access line, nothing twice, no kombu
    # warning about the broker's host name, no "succeeded" of the in-process task, no Wagtail
    # editing line.
    lines = [line.split(" ", 2)[2] for line in result.stderr.splitlines()]
    assert lines == [
        "ERROR   django.server [- user=-] You're accessing the development server over HTTPS, "
        "but it only supports HTTP.",
        "INFO    django.utils.autoreload [- user=-] Watching for file changes with StatReloader",
        "ERROR   django.request [- user=-] Internal Server Error: /boom/",
        "INFO    apps.support.common.tasks [- user=-] Sent 1 email(s) 'Hola' to 1 recipient(s)",
        "ERROR   wagtail [- user=-] A failure of Wagtail is still shown",
    ]


def test_runserver_access_lines_are_dropped(caplog):
    """RequestLogMiddleware logs each request; runserver's own line for it would be a second."""
    extra = {"request": None, "server_time": "30/Nov/2026 21:42:10", "status_code": 404}
    server = logging.getLogger("django.server")
    server.warning('"%s" %s %s', "GET /favicon.ico HTTP/1.1", "404", "3340", extra=extra)
    server.error("You're accessing the development server over HTTPS, but it only supports HTTP.")
    assert [record.getMessage() for record in caplog.records] == [
        "You're accessing the development server over HTTPS, but it only supports HTTP."
    ]


def test_the_broker_of_eager_tasks_names_its_host(caplog):
    """Celery opens a producer on the (in-memory) broker even for eager tasks: kombu warns at
    the first one when its URL names no host."""
    with caplog.at_level(logging.DEBUG, logger="kombu"):
        info = celery_app.connection_for_write().info()
    assert (info["transport"], info["hostname"]) == ("memory", "localhost")
    assert caplog.records == []


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def three_steps(monkeypatch):
    """seed_demo with three quick steps instead of the demo's; what ran, in order."""
    ran: list[str] = []
    names = ["security.accounts", "wildlife.species", "tickets.orders"]
    steps = [
        DemoStep(order=order, name=name, run=lambda context, name=name: ran.append(name))
        for order, name in enumerate(names)
    ]
    monkeypatch.setattr(seed_demo, "demo_steps", lambda: steps)
    return ran


@pytest.mark.django_db
def test_seed_demo_prints_one_plain_line_per_step_when_not_on_a_terminal(three_steps, monkeypatch):
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    out = io.StringIO()
    call_command("seed_demo", "--allow-production", stdout=out)
    assert three_steps == ["security.accounts", "wildlife.species", "tickets.orders"]
    assert out.getvalue() == (
        "Demo data 1/3: security.accounts\n"
        "Demo data 2/3: wildlife.species\n"
        "Demo data 3/3: tickets.orders\n"
        "Demo data ready (3 steps).\n"
    )
    assert stderr.getvalue() == ""


@pytest.mark.django_db
def test_seed_demo_draws_a_bar_on_a_terminal(three_steps, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    out = io.StringIO()
    call_command("seed_demo", "--allow-production", stdout=out)
    assert out.getvalue() == "Demo data ready (3 steps).\n"
    drawn = terminal.getvalue()
    assert "\r" in drawn
    assert "3/3" in drawn
    assert "tickets.orders" in drawn


@pytest.mark.django_db
def test_seed_demo_without_progress_prints_neither(three_steps, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    out = io.StringIO()
    call_command("seed_demo", "--allow-production", "--no-progress", stdout=out)
    assert (out.getvalue(), terminal.getvalue()) == ("Demo data ready (3 steps).\n", "")


def test_favicon_is_served_from_the_site_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file
