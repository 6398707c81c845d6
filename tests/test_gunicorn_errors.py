"""gunicorn's own error answers (before Django sees the request) are in the API's error shape.

A real gunicorn, started with config/gunicorn.py and the production settings, once per worker
class the config can choose (sync; gthread when GUNICORN_THREADS > 1), is sent raw requests.
"""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.client import responses
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from config.gunicorn_workers import JsonErrorSyncWorker

ROOT = Path(__file__).resolve().parent.parent
# Generous for a loaded 2-core machine: a quiet one boots in a few seconds, answers at once.
BOOT_SECONDS = 60
ANSWER_SECONDS = 30
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
# The worker class config/gunicorn.py chooses for each GUNICORN_THREADS.
WORKER_CLASSES = {
    "JsonErrorSyncWorker": "1",
    "JsonErrorThreadWorker": "2",
}


class Server:
    def __init__(self, worker_class: str, process: subprocess.Popen, log: Path) -> None:
        self.worker_class, self.process, self.log = worker_class, process, log
        self.port = 0

    def output(self) -> str:
        return self.log.read_text()

    def wait_until_answering(self) -> None:
        """Reads the port gunicorn bound (it was given port 0), then polls /health/live/."""
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.output()}")
            if not self.port:
                found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", self.output())
                self.port = int(found.group(1)) if found else 0
            if self.port:
                try:
                    if exchange(self.port, LIVE)[0] == "HTTP/1.1 200 OK":
                        return
                except OSError:
                    pass
            time.sleep(0.2)
        pytest.fail(f"gunicorn did not answer in {BOOT_SECONDS} s:\n{self.output()}")

    def wait_stopped(self) -> None:
        try:
            self.process.wait(timeout=ANSWER_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _start(folder: Path, worker_class: str) -> Server:
    """gunicorn -c config/gunicorn.py on the production settings, one worker, any free port."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "GUNICORN_", "SECRET_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1",
            # Required by the production settings; nothing here reaches either of them.
            "DATABASE_URL": f"sqlite:///{folder / 'unused.sqlite3'}",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "CELERY_BROKER_URL": "redis://127.0.0.1:1/1",
            "STATIC_ROOT": str(folder / "static"),
            "MEDIA_ROOT": str(folder / "media"),
            "LOG_LEVEL": "WARNING",
            "SELLER_LEGAL_NAME": "Parque Marino (test)",
            "SELLER_TAX_ID": "0-000-000000",
            "SELLER_ADDRESS": "127.0.0.1",
            "GUNICORN_BIND": "127.0.0.1:0",
            "GUNICORN_WORKERS": "1",
            "GUNICORN_THREADS": WORKER_CLASSES[worker_class],
        }
    )
    log = folder / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            # No control socket: it would take the path other gunicorns on this machine use.
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "config/gunicorn.py",
                "--no-control-socket",
                "config.wsgi",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Server(worker_class, process, log)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Server]]:
    """One gunicorn per worker class, started together so that their boots overlap, and
    stopped whatever happens."""
    started: dict[str, Server] = {}
    try:
        for worker_class in WORKER_CLASSES:
            started[worker_class] = _start(tmp_path_factory.mktemp(worker_class), worker_class)
        for server in started.values():
            server.wait_until_answering()
        yield started
    finally:
        for server in started.values():
            server.process.send_signal(signal.SIGINT)  # quick shutdown; SIGTERM waits
        for server in started.values():
            server.wait_stopped()


@pytest.fixture(params=list(WORKER_CLASSES))
def server(request: pytest.FixtureRequest, servers: dict[str, Server]) -> Server:
    return servers[request.param]


def exchange(port: int, head: bytes) -> tuple[str, dict[str, str], bytes]:
    """Sends ``head`` (request line and headers) and reads the answer until gunicorn closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_SECONDS) as connection:
        connection.sendall(head + b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    raw_head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = raw_head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}
    return status, headers, body


LIVE = b"GET /health/live/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
OVERSIZED_HEADER = LIVE + b"X-Big: <b>" + b"a" * 9000 + b"\r\n"
OVERLONG_LINE = b"GET /<script>" + b"a" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
MALFORMED_LINE = b"GET /<script> HTTP/1.1 <script>\r\nHost: 127.0.0.1\r\n"
INVALID_HEADER = LIVE + b"X <script>: 1\r\n"
UNKNOWN_EXPECTATION = LIVE + b"Expect: <script>\r\n"
UNKNOWN_TRANSFER_CODING = LIVE + b"Transfer-Encoding: <script>\r\n"


@pytest.mark.parametrize(
    ("head", "status", "code", "message"),
    [
        (
            OVERSIZED_HEADER,
            431,
            "request_header_fields_too_large",
            "Las cabeceras de la solicitud son demasiadas o demasiado grandes.",
        ),
        (
            OVERLONG_LINE,
            414,
            "uri_too_long",
            "La línea de la solicitud (método y dirección) es más larga de lo que el servidor "
            "acepta.",
        ),
        (
            MALFORMED_LINE,
            400,
            "bad_request",
            "El servidor no pudo leer esta solicitud: no es HTTP válido.",
        ),
        (
            INVALID_HEADER,
            400,
            "bad_request",
            "El servidor no pudo leer esta solicitud: no es HTTP válido.",
        ),
        (
            UNKNOWN_EXPECTATION,
            417,
            "expectation_failed",
            "El servidor no puede cumplir la cabecera Expect de la solicitud.",
        ),
        (
            UNKNOWN_TRANSFER_CODING,
            501,
            "not_implemented",
            "El servidor no admite una función que esta solicitud usa.",
        ),
    ],
    ids=[
        "oversized-header",
        "overlong-request-line",
        "malformed-request-line",
        "invalid-header",
        "unknown-expectation",
        "unknown-transfer-coding",
    ],
)
def test_gunicorn_answers_its_own_errors_in_the_error_shape(server, head, status, code, message):
    answer_status, headers, body = exchange(server.port, head)

    request_id = headers.get("x-request-id", "")
    # The reason phrase is Python's, as in Django's answers ("Request-URI Too Long" before 3.13).
    assert answer_status == f"HTTP/1.1 {status} {responses[status]}", server.output()[-3000:]
    assert headers == {
        "connection": "close",
        "content-type": "application/json",
        "content-length": str(len(body)),
        "x-request-id": request_id,
    }
    assert REQUEST_ID.match(request_id)
    assert json.loads(body) == {
        "code": code,
        "message": message,
        "errors": [],
        "request_id": request_id,
    }
    # Nothing of the offending request comes back (its runs of thousands of "a"; the request
    # id, 32 random hex digits, may hold a few by chance).
    assert b"<" not in body
    assert b"a" * 33 not in body


def test_every_error_gets_its_own_request_id(server):
    first = exchange(server.port, MALFORMED_LINE)[1]["x-request-id"]
    second = exchange(server.port, MALFORMED_LINE)[1]["x-request-id"]
    assert first != second


def test_the_config_chooses_the_worker_class_after_the_threads(server):
    output = server.output()
    assert f"Using worker: config.gunicorn_workers.{server.worker_class}\n" in output
    assert "HTML, not JSON" not in output


def test_a_normal_request_still_reaches_django(server):
    status, headers, body = exchange(server.port, LIVE)
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-type"] == "application/json"
    assert REQUEST_ID.match(headers["x-request-id"])
    assert json.loads(body) == {"status": "ok"}


def test_gunicorn_500_says_nothing_of_the_failure():
    """gunicorn's 500 (an error outside the application) cannot be caused from outside: the
    worker's method is called directly, on one end of a socket pair."""
    config = Config()
    worker = JsonErrorSyncWorker(0, os.getpid(), [], None, 30, config, Logger(config))
    ours, theirs = socket.socketpair()
    try:
        with ours:
            worker.handle_error(
                None, ours, ("127.0.0.1", 1), RuntimeError("DATABASE_URL=postgres://secret")
            )
        theirs.settimeout(ANSWER_SECONDS)
        answer = b""
        while chunk := theirs.recv(65536):
            answer += chunk
    finally:
        theirs.close()
        worker.tmp.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    request_id = dict(line.split(": ", 1) for line in lines)["X-Request-ID"]

    assert status == "HTTP/1.1 500 Internal Server Error"
    assert lines == [
        "Connection: close",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        f"X-Request-ID: {request_id}",
    ]
    assert json.loads(body) == {
        "code": "server_error",
        "message": "Algo falló de nuestro lado; quedó registrado.",
        "errors": [],
        "request_id": request_id,
    }
    assert b"secret" not in answer
    assert b"Traceback" not in answer


def test_the_container_health_check_asks_gunicorn_with_an_allowed_host(servers, tmp_path):
    """scripts/healthcheck (the image's HEALTHCHECK) against a real gunicorn: healthy with a
    host of ALLOWED_HOSTS; unhealthy when Django refuses the host, or when nothing listens."""
    port = servers["JsonErrorSyncWorker"].port

    def check(bind: str, hosts: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "GUNICORN_BIND": bind, "ALLOWED_HOSTS": hosts}
        return subprocess.run(
            [sys.executable, "scripts/healthcheck"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=ANSWER_SECONDS,
            check=False,
        )

    assert check(f"0.0.0.0:{port}", "127.0.0.1,parque.example.org").returncode == 0
    refused = check(f"0.0.0.0:{port}", "parque.example.org")
    assert refused.returncode == 1
    assert "400" in refused.stderr
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        nobody = free.getsockname()[1]
    assert check(f"0.0.0.0:{nobody}", "127.0.0.1").returncode == 1
