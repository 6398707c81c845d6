"""A worker killed with SIGKILL in the middle of a task: the task is delivered again to the next
worker and its effect happens exactly once (the tickets' email reaches the mail server once).

Real pieces: a Celery worker process on the Redis broker, the test's PostgreSQL database, and
a mail server on a socket of this machine (the only thing outside the park, faked at the SMTP
boundary: it speaks enough SMTP to take a message, and can hold a connection without
answering). The worker is killed while the task waits for the mail server's greeting: the
order read, the PDF drawn, the email claimed, nothing sent.

The control run kills the same way a worker that acknowledges tasks on receipt (Celery's
default, not this project's ``acks_late``): the task is lost and no email is ever sent. So the
test would catch a project that lost ``acks_late``.
"""

import contextlib
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from apps.support.common.models import DeliveryStatus, EmailDelivery
from tests.factories import TicketTypeFactory, TimeSlotFactory, UserFactory
from tests.processes import database_url, kill_group, stop_group
from tests.sales import paid_order

ROOT = Path(__file__).resolve().parent.parent
VISIBILITY_SECONDS = 2
LEASE_SECONDS = 2
WAIT_SECONDS = 120  # a loaded 2-core machine starts a Django worker in well under this

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="the worker shares the test's database server"
    ),
]


class MailServer(socketserver.ThreadingTCPServer):
    """Takes messages over SMTP; holds the first connection silent while ``hold`` is set."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), MailSession)
        self.messages: list[bytes] = []
        self.connected = threading.Event()
        self.hold = threading.Event()
        self.hold.set()
        self.connections = 0
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]


class MailSession(socketserver.StreamRequestHandler):
    server: MailServer

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())
        self.wfile.flush()

    def handle(self) -> None:
        with self.server.lock:
            self.server.connections += 1
            first = self.server.connections == 1
        self.server.connected.set()
        if first:
            while self.server.hold.is_set():  # no greeting: the client waits for it
                time.sleep(0.05)
            return
        self.reply("220 mail.test ESMTP")
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.reply("250 mail.test")
            elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self.reply("250 OK")
            elif command == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    data += part
                self.server.messages.append(data)
                self.reply("250 OK queued")
            elif command == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Not implemented")


@pytest.fixture
def mail_server():
    server = MailServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.hold.clear()
    server.shutdown()
    server.server_close()


@pytest.fixture
def broker():
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL is not set")
    return f"{redis_url.rsplit('/', 1)[0]}/14"


class Worker:
    def __init__(
        self, broker: str, queue: str, mail_port: int, log: Path, *, acks_late: bool | None
    ):
        env = {
            **{
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_", "EMAIL_"))
            },
            "DJANGO_SETTINGS_MODULE": "config.settings.development",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": broker,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
            "EMAIL_URL": f"smtp://127.0.0.1:{mail_port}",
            "EMAIL_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
        }
        argv = [
            "worker",
            # Prefork, the pool production runs: the parent process takes the task from the
            # broker and hands it to a child (with the solo pool, even an early
            # acknowledgement waits for the task to end).
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--queues",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ]
        # The project's app, as `celery -A config worker` runs it, with the project's
        # settings (acks_late None); the control run turns acks_late off in it, as a project
        # that lost the setting would.
        override = (
            ""
            if acks_late is None
            else (
                "from apps.business.tickets.tasks import send_order_tickets\n"
                f"send_order_tickets.acks_late = {acks_late!r}\n"
            )
        )
        code = (
            "import sys, django; django.setup()\n"
            "from config.celery import app\n"
            f"{override}"
            "app.worker_main(sys.argv[1:])\n"
        )
        self.log = log
        with log.open("a") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, *argv],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        kill_group(self.process)

    def stop(self) -> None:
        stop_group(self.process)


def wait_for(condition, what: str, log: Path, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} within {seconds} s; worker log:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def kill_in_the_middle_and_restart(broker, mail_server, tmp_path, *, acks_late: bool | None):
    """Sell an order, queue its tickets' email to a worker, kill the worker while it waits
    for the mail server, then start another one. Returns the order."""
    order = paid_order(UserFactory(), TimeSlotFactory(capacity=5), TicketTypeFactory(), 2)
    # Paying queued the email in this process (eager): that one is not the subject.
    EmailDelivery.objects.all().delete()
    queue = f"redelivery-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "workers.log"
    client = Celery("redelivery-client", broker=broker, set_as_current=False)
    first = Worker(broker, queue, mail_server.port, log, acks_late=acks_late)
    second = None
    try:
        client.send_task("tickets.send_order_tickets", args=[order.pk], queue=queue)
        wait_for(mail_server.connected.is_set, "the worker did not reach the mail server", log)
        first.kill()
        taken_at = time.monotonic()
        assert mail_server.messages == []
        claimed = EmailDelivery.objects.get()  # the killed worker had claimed the email
        assert (claimed.status, claimed.attempts) == (DeliveryStatus.SENDING, 1)
        mail_server.hold.clear()  # the dead worker's connection ends; the server answers now
        # The broker hands a task taken by a dead worker to another after the visibility
        # timeout (Redis; RabbitMQ does at once).
        time.sleep(max(0.0, VISIBILITY_SECONDS + 0.5 - (time.monotonic() - taken_at)))
        second = Worker(broker, queue, mail_server.port, log, acks_late=acks_late)
        wait_for(
            lambda: log.read_text().count("ready.") >= 2, "the second worker did not start", log
        )
        yield order, log
    finally:
        first.stop()
        if second is not None:
            second.stop()
        with client.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


def test_a_task_whose_worker_is_killed_is_delivered_again_and_sends_once(
    broker, mail_server, tmp_path
):
    with kill_in_the_middle_and_restart(broker, mail_server, tmp_path, acks_late=None) as (
        order,
        log,
    ):
        check_sent_once(order, log, mail_server)


def check_sent_once(order, log, mail_server) -> None:
    wait_for(lambda: len(mail_server.messages) >= 1, "the email was not sent again", log)
    time.sleep(LEASE_SECONDS + 2)  # time enough for a second one, were there one
    assert len(mail_server.messages) == 1
    message = mail_server.messages[0].decode(errors="replace")
    assert f"To: {order.email}" in message
    assert f"parque-marino-{order.code}.pdf" in message
    delivery = EmailDelivery.objects.get()
    assert (delivery.key, delivery.status, delivery.attempts) == (
        f"tickets.order.{order.pk}",
        DeliveryStatus.SENT,
        2,
    )


def test_control_a_worker_acknowledging_on_receipt_loses_the_task(broker, mail_server, tmp_path):
    with kill_in_the_middle_and_restart(broker, mail_server, tmp_path, acks_late=False) as (
        _order,
        log,
    ):
        # The second worker runs for longer than the first one needed to reach the mail
        # server: nothing comes.
        time.sleep(VISIBILITY_SECONDS + LEASE_SECONDS + 8)
        assert mail_server.messages == [], log.read_text()[-2000:]
        assert EmailDelivery.objects.get().status == DeliveryStatus.SENDING


def test_the_mail_server_fake_speaks_smtp(mail_server):
    """The fake's own check: Python's smtplib hands it a message."""
    import smtplib

    mail_server.hold.clear()
    with socket.create_connection(("127.0.0.1", mail_server.port)):
        pass  # the first connection, held silent, is used up
    with smtplib.SMTP("127.0.0.1", mail_server.port, timeout=10) as smtp:
        smtp.sendmail("a@example.org", ["b@example.org"], "Subject: x\r\n\r\nhola\r\n")
    assert mail_server.messages == [b"Subject: x\r\n\r\nhola\r\n"]


def test_the_project_acknowledges_tasks_late_and_rejects_those_of_a_lost_worker(settings):
    """What the test above relies on, from the project's own configuration."""
    from apps.business.tickets.tasks import send_order_tickets
    from config.celery import app

    assert (settings.CELERY_TASK_ACKS_LATE, settings.CELERY_TASK_REJECT_ON_WORKER_LOST) == (
        True,
        True,
    )
    assert (app.conf.task_acks_late, app.conf.task_reject_on_worker_lost) == (True, True)
    assert send_order_tickets.acks_late is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
