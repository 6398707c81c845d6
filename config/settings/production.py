"""Production: PostgreSQL (or MySQL/MariaDB), Redis, S3, SMTP, Celery workers, gunicorn.

Refuses to start when a variable it cannot run safely without is missing or insecure; the
message names the variable. ``python manage.py check --deploy --fail-level WARNING`` passes
with these settings and the variables documented in docs/deployment.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import SECRET_KEY, env

# Keys that ship with the project (development, test, .env.example) are public knowledge.
_PUBLIC_KEY_MARKERS = ("django-insecure", "development-only", "test-only", "change-me")


def _require(name: str, value: object, why: str) -> None:
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production: {why}")


def _check_secret_key(value: str) -> None:
    _require("SECRET_KEY", value, "it signs sessions, password-reset links and tokens.")
    if (
        len(value) < 50
        or len(set(value)) < 5
        or any(marker in value.lower() for marker in _PUBLIC_KEY_MARKERS)
    ):
        raise ImproperlyConfigured(
            "SECRET_KEY is insecure: use at least 50 random characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
        )


DEBUG = False
_check_secret_key(SECRET_KEY)
SIMPLE_JWT["SIGNING_KEY"] = SIMPLE_JWT["SIGNING_KEY"] or SECRET_KEY  # noqa: F405
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
_require("ALLOWED_HOSTS", ALLOWED_HOSTS, "list the host names the service answers to.")
_require("DATABASE_URL", env.str("DATABASE_URL", default=""), "e.g. postgres://user:pw@host/db.")
_require(
    "REDIS_URL",
    REDIS_URL,  # noqa: F405
    "the cache and throttling counters must be shared by every process.",
)
_require(
    "CELERY_BROKER_URL",
    env.str("CELERY_BROKER_URL", default=""),
    "without a broker, tasks (ticket PDFs, emails, gateway calls) would run inside the "
    "buyer's request; e.g. redis://redis.internal:6379/1 or amqp://user:pw@rabbitmq.internal//.",
)

# Online payment takes real money only through gateways named here; none by default.
PAYMENT_GATEWAYS = env.list("PAYMENT_GATEWAYS", default=[])
if "sandbox" in PAYMENT_GATEWAYS and PAYMENTS_SANDBOX_WEBHOOK_SECRET.endswith(  # noqa: F405
    "not-for-production"
):
    raise ImproperlyConfigured(
        "PAYMENTS_SANDBOX_WEBHOOK_SECRET must be set when the sandbox gateway is enabled in "
        "production (PAYMENT_GATEWAYS); better, leave the sandbox out of PAYMENT_GATEWAYS."
    )

# Invoices are legal documents: the seller they print is never the demo's.
for _name in ("SELLER_LEGAL_NAME", "SELLER_TAX_ID", "SELLER_ADDRESS"):
    _require(_name, env.str(_name, default=""), "every invoice and credit note prints it.")

_GATEWAY_SETTINGS = {
    "stripe": ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"),
    "paypal": ("PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET", "PAYPAL_WEBHOOK_ID"),
}
for _gateway, _names in _GATEWAY_SETTINGS.items():
    if _gateway in PAYMENT_GATEWAYS:
        for _name in _names:
            _require(_name, globals()[_name], f"{_gateway} is listed in PAYMENT_GATEWAYS.")
if PAYPAL_ENVIRONMENT not in ("sandbox", "live"):  # noqa: F405
    raise ImproperlyConfigured("PAYPAL_ENVIRONMENT must be sandbox or live.")

for _database in DATABASES.values():  # noqa: F405 (the replica too, when there is one)
    _database["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

# --- HTTPS and cookies ------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
