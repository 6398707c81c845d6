"""The README's `make run` path, minus the server: development settings on a fresh SQLite
file, migrate, seed_demo, then sign in as a demo account and read the API."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import django, json
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("seed_demo", "--no-progress", verbosity=0)
from django.test import Client
client = Client(HTTP_HOST="localhost")
token = client.post("/api/v1/auth/token/", {"email": "auditor@parquemarino.test",
    "password": "parque-marino-demo"}, content_type="application/json")
access = token.json()["access"]
events = client.get("/api/v1/audit/events/", HTTP_AUTHORIZATION="Bearer " + access)
docs = client.get("/api/v1/docs/")
ready = client.get("/health/ready/")
print(json.dumps([token.status_code, events.status_code, events.json()["count"] > 0,
    docs.status_code, ready.status_code]))
"""


def test_development_mode_serves_demo_accounts(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "SECRET_", "JWT_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.development",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "LOG_LEVEL": "WARNING",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[200, 200, true, 200, 200]"
