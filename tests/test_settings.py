"""The two run modes, and production refusing to start without what it needs."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k3Y-" + "x9Qz7" * 12

PRODUCTION_ENV = {
    "SECRET_KEY": GOOD_KEY,
    "ALLOWED_HOSTS": "parque.example.org",
    "DATABASE_URL": "postgres://parque:secret@db.internal:5432/parque",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "CELERY_BROKER_URL": "redis://cache.internal:6379/1",
    "SELLER_LEGAL_NAME": "Parque Marino Example S.A.",
    "SELLER_TAX_ID": "3-101-123456",
    "SELLER_ADDRESS": "Puntarenas, Costa Rica",
}


STRIPE = {
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
}
PAYPAL = {
    "PAYPAL_CLIENT_ID": "client-id",
    "PAYPAL_CLIENT_SECRET": "client-secret",
    "PAYPAL_WEBHOOK_ID": "WH-1",
    "PAYPAL_ENVIRONMENT": "live",
}


def run(code_or_args: list[str], settings: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "SECRET_", "ALLOWED_"))
    }
    return subprocess.run(
        [sys.executable, *code_or_args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": settings, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def show(settings: str, env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    code = f"from django.conf import settings as s; print({expression})"
    return run(["-c", code], settings, env)


def test_check_deploy_passes_with_production_settings():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        "config.settings.production",
        PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is insecure"),
        ({"SECRET_KEY": "django-insecure-" + "a1b2c3d4e5" * 5}, "SECRET_KEY is insecure"),
        (
            {"SECRET_KEY": "development-only-key-never-used-in-production-0123456789abcdefghij"},
            "SECRET_KEY is insecure",
        ),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"DATABASE_URL": ""}, "DATABASE_URL must be set"),
        ({"REDIS_URL": ""}, "REDIS_URL must be set"),
        ({"CELERY_BROKER_URL": ""}, "CELERY_BROKER_URL must be set"),
        ({"SELLER_TAX_ID": ""}, "SELLER_TAX_ID must be set"),
        ({"PAYMENT_GATEWAYS": "stripe"}, "STRIPE_SECRET_KEY must be set"),
        (
            {**STRIPE, "STRIPE_WEBHOOK_SECRET": "", "PAYMENT_GATEWAYS": "stripe"},
            "STRIPE_WEBHOOK_SECRET must be set",
        ),
        ({"PAYMENT_GATEWAYS": "paypal"}, "PAYPAL_CLIENT_ID must be set"),
        (
            {**PAYPAL, "PAYPAL_WEBHOOK_ID": "", "PAYMENT_GATEWAYS": "paypal"},
            "PAYPAL_WEBHOOK_ID must be set",
        ),
        (
            {**PAYPAL, "PAYPAL_ENVIRONMENT": "production", "PAYMENT_GATEWAYS": "paypal"},
            "PAYPAL_ENVIRONMENT must be sandbox or live",
        ),
    ],
)
def test_production_refuses_to_start(overrides, variable):
    result = show("config.settings.production", {**PRODUCTION_ENV, **overrides}, "s.DEBUG")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable}" in result.stderr


def test_production_takes_real_money_through_gateways_with_their_secrets():
    env = {**PRODUCTION_ENV, **STRIPE, **PAYPAL, "PAYMENT_GATEWAYS": "stripe,paypal"}
    result = show("config.settings.production", env, "s.PAYMENT_GATEWAYS")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['stripe', 'paypal']"


def test_production_turns_on_https_and_persistent_connections():
    result = show(
        "config.settings.production",
        PRODUCTION_ENV,
        "s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, s.DATABASES['default']['ENGINE'], "
        "s.DATABASES['default']['CONN_MAX_AGE'], s.CACHES['default']['BACKEND']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "False True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https') "
        "django.db.backends.postgresql 60 django_redis.cache.RedisCache"
    )


def test_production_accepts_mysql_urls():
    result = show(
        "config.settings.production",
        {**PRODUCTION_ENV, "DATABASE_URL": "mysql://parque:secret@db.internal:3306/parque"},
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['OPTIONS']['charset']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.db.backends.mysql utf8mb4"


def test_production_reads_the_catalogue_from_a_replica_when_given_one():
    replica = "postgres://reader:secret@replica.internal:5432/parque"
    result = show(
        "config.settings.production",
        {**PRODUCTION_ENV, "DATABASE_REPLICA_URL": replica},
        "s.READ_REPLICA_ALIAS, sorted(s.DATABASES), s.DATABASES['replica']['HOST'], "
        "s.DATABASES['replica']['USER'], s.DATABASES['replica']['CONN_MAX_AGE'], "
        "s.DATABASES['replica']['OPTIONS']['connect_timeout'], "
        "s.DATABASES['replica']['OPTIONS']['options'], "
        "s.DATABASE_ROUTERS",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "replica ['default', 'replica'] replica.internal reader 60 2 "
        "-c lock_timeout=3000 -c statement_timeout=5000 "
        "['apps.support.common.replica.ReplicaRouter']"
    )
    without = show("config.settings.production", PRODUCTION_ENV, "repr(s.READ_REPLICA_ALIAS)")
    assert without.stdout.strip() == "''"
    mismatched = show(
        "config.settings.production",
        {**PRODUCTION_ENV, "DATABASE_REPLICA_URL": "mysql://reader@replica.internal/parque"},
        "s.DEBUG",
    )
    assert "ImproperlyConfigured: DATABASE_REPLICA_URL must be of DATABASE_URL's kind" in (
        mismatched.stderr
    )


def test_integrations_switch_on_with_their_variable():
    result = show(
        "config.settings.production",
        {
            **PRODUCTION_ENV,
            "CELERY_BROKER_URL": "amqp://guest:guest@mq.internal:5672//",
            "EMAIL_URL": "smtp+tls://mailer:pw@smtp.internal:587",
            "AWS_STORAGE_BUCKET_NAME": "parque-media",
        },
        "s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_USE_TLS, "
        "s.STORAGES['default']['BACKEND']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "False django.core.mail.backends.smtp.EmailBackend smtp.internal True "
        "storages.backends.s3.S3Storage"
    )


def test_development_runs_on_embedded_defaults(tmp_path):
    result = show(
        "config.settings.development",
        {},
        "s.DEBUG, s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
        "s.STORAGES['default']['BACKEND'], s.EMAIL_BACKEND, s.CELERY_TASK_ALWAYS_EAGER, "
        "s.TIME_ZONE, [code for code, _ in s.LANGUAGES]",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True django.db.backends.sqlite3 django.core.cache.backends.locmem.LocMemCache "
        "django.core.files.storage.FileSystemStorage "
        "apps.support.common.mail.SummaryEmailBackend True America/Costa_Rica ['es', 'en']"
    )


def test_development_prints_whole_emails_when_asked():
    result = show("config.settings.development", {"EMAIL_CONSOLE_FULL": "true"}, "s.EMAIL_BACKEND")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.core.mail.backends.console.EmailBackend"


def test_env_example_lists_every_variable_the_settings_read():
    read = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        text = path.read_text()
        read |= set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_0-9]+)"', text))
    read |= {"DJANGO_SETTINGS_MODULE"}
    listed = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and line.lstrip("# ").split("=", 1)[0].strip().isupper()
    }
    assert read - listed == set()


@pytest.mark.parametrize(
    ("variable", "value"), [("JWT_ACCESS_MINUTES", "16"), ("JWT_REFRESH_DAYS", "8")]
)
def test_token_lifetimes_have_a_ceiling(variable, value):
    result = show("config.settings.production", {**PRODUCTION_ENV, variable: value}, "s.DEBUG")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable} must be between" in result.stderr


def test_an_interrupted_payment_is_not_asked_again_while_its_gateway_call_may_still_run():
    env = {
        **PRODUCTION_ENV,
        "PAYMENTS_GATEWAY_TIMEOUT": "30",
        "PAYMENTS_ATTEMPT_ABANDONED_SECONDS": "90",
    }
    refused = show("config.settings.production", env, "s.DEBUG")
    assert refused.returncode != 0
    assert (
        "ImproperlyConfigured: PAYMENTS_ATTEMPT_ABANDONED_SECONDS must be above three times "
        "PAYMENTS_GATEWAY_TIMEOUT"
    ) in refused.stderr
    allowed = show(
        "config.settings.production",
        {**env, "PAYMENTS_ATTEMPT_ABANDONED_SECONDS": "91"},
        "s.PAYMENTS_ATTEMPT_ABANDONED_SECONDS",
    )
    assert allowed.stdout.strip() == "91", allowed.stderr
