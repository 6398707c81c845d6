"""Settings shared by every run mode.

Every value comes from the environment through one reader (django-environ). An integration
switches on when its variable is set: ``REDIS_URL`` (cache, throttling and lockout counters),
``CELERY_BROKER_URL`` (real Celery workers), ``EMAIL_URL`` (SMTP), ``AWS_STORAGE_BUCKET_NAME``
(S3 media). Without them the embedded defaults apply: SQLite, local memory, local files,
eager tasks, console email. ``.env.example`` lists every variable.
"""

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from apps.support.common.cache import guarded_connection_class

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -----------------------------------------------------------------------

DJANGO_APPS = [
    "config.apps.BackOfficeAdminConfig",  # django.contrib.admin on the park's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "axes",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    # Editorial content (exhibitions): revisions, drafts, scheduling, previews, image
    # renditions and the editors' screen at /cms/ (docs/adr/0032).
    "wagtail.sites",
    "wagtail.snippets",
    "wagtail.images",
    # The editors' screen needs Wagtail's documents app; the park's documents are its own
    # module (nobody is granted Wagtail's document permissions).
    "wagtail.documents",
    # Wagtail's users app with its account and group screens closed (accounts and roles are
    # managed in /admin/ and the API only).
    "apps.support.security.wagtail_apps.WagtailUsersConfig",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
]
LOCAL_APPS = [
    "apps.support.common",
    "apps.support.security",
    "apps.support.audit",
    "apps.business.infrastructure",
    "apps.business.wildlife",
    "apps.business.education",
    "apps.business.exhibitions",
    "apps.business.payments",
    "apps.business.tickets",
    "apps.business.invoicing",
    "apps.business.donations",
    "apps.business.finance",
    "apps.business.documents",
    "apps.integrations",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

AUTH_USER_MODEL = "security.User"

MIDDLEWARE = [
    "apps.support.common.middleware.RequestIdMiddleware",
    # Before everything that reads the request: every error under /api/ leaves as JSON.
    "api.middleware.ApiErrorMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.support.common.middleware.RequestLogMiddleware",
    "apps.support.security.middleware.ContentSecurityPolicyMiddleware",
    # Lockout responses for the back office's login; the API answers lockouts itself.
    "apps.support.security.middleware.BackOfficeAxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# axes.W002 looks for AxesMiddleware by name; BackOfficeAxesMiddleware is that middleware,
# limited to pages outside /api/.
SILENCED_SYSTEM_CHECKS = ["axes.W002"]

AUTHENTICATION_BACKENDS = [
    # Refuses sign-in for an (email, IP) pair that is locked out, then defers to ModelBackend.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "api" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------

DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if "ENGINE" not in DATABASES["default"]:
    raise ImproperlyConfigured(
        "DATABASE_URL has an unknown scheme: use postgres://, mysql:// or sqlite:///."
    )
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
_engine = DATABASES["default"]["ENGINE"]
if _engine == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the dev server serve reads while a write runs.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif _engine == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"charset": "utf8mb4", "isolation_level": "read committed"}
    )
    # Conditional and expression unique constraints, which Django does not create here, are
    # made by the apps' UniqueOnMySQL migrations instead (docs/adr/0044; every one is tested by
    # tests/test_unique_constraints.py): the warnings that they are not created do not hold.
    SILENCED_SYSTEM_CHECKS += ["models.W036", "models.W044"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
# Redis answers in well under a millisecond: a call that takes longer than this has found it
# hung, and the request goes on without the cache (docs/adr/0038).
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.25)
# Once Redis is found unreachable, each process leaves it alone this long before trying again.
CACHE_RETRY_SECONDS = env.float("CACHE_RETRY_SECONDS", default=5.0)
if REDIS_SOCKET_TIMEOUT <= 0 or CACHE_RETRY_SECONDS <= 0:
    raise ImproperlyConfigured("REDIS_SOCKET_TIMEOUT and CACHE_RETRY_SECONDS must be positive.")


def redis_cache(location: str, timeout: float = REDIS_SOCKET_TIMEOUT) -> dict[str, Any]:
    """A django-redis cache that the API can do without (docs/adr/0038): short timeouts,
    connection errors ignored (a read finds nothing, a write is dropped), and each process's
    breaker keeping calls off the network while Redis is unreachable."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="parque-marino"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": timeout,
            "SOCKET_TIMEOUT": timeout,
            "IGNORE_EXCEPTIONS": True,
            "CONNECTION_POOL_KWARGS": {"connection_class": guarded_connection_class(location)},
        },
    }


# Public reads kept in the cache (the catalogue, availability, campaigns), dropped on commit
# of every write that changes them; this bounds a copy's life in any case. 0: keep none.
READ_CACHE_SECONDS = env.int("READ_CACHE_SECONDS", default=300)
if READ_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("READ_CACHE_SECONDS must be 0 (off) or more.")

# The breaker logs the outage (once a minute); django-redis would log every call.
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = False
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "parque-marino",
        }
    }

# --- Passwords --------------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = "es"
LANGUAGES = [("es", _("Spanish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="America/Costa_Rica")
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# The home page's style sheet; the back office dashboard's script and its charting library.
STATICFILES_DIRS = [BASE_DIR / "api" / "static"]
# Files served at the site's root by WhiteNoise: /favicon.ico, which browsers ask for on every
# page (the back office, the API docs) whatever the page links to.
WHITENOISE_ROOT = BASE_DIR / "api" / "root"
MEDIA_URL = "/media/"

# --- Back office ------------------------------------------------------------------------

# The dashboard lists an animal in our care as "weight overdue" when it has no weight recorded
# in this many days (or none at all). Thirty days: a monthly weighing, the usual routine.
BACK_OFFICE_WEIGHT_OVERDUE_DAYS = 30
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))

AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, which boto3 reads itself.
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Documents (permits, lab reports, contracts) are private whatever media is: never under
# MEDIA_URL locally, and on S3 only through short-lived presigned URLs (querystring auth, no
# public custom domain), in their own bucket when DOCUMENTS_BUCKET_NAME is set.
DOCUMENTS_ROOT = env.path("DOCUMENTS_ROOT", default=str(BASE_DIR / "private" / "documents"))
DOCUMENTS_BUCKET_NAME = env.str("DOCUMENTS_BUCKET_NAME", default="") or AWS_STORAGE_BUCKET_NAME
if DOCUMENTS_BUCKET_NAME:
    _documents_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": DOCUMENTS_BUCKET_NAME,
            "location": env.str("DOCUMENTS_LOCATION", default="documents"),
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "custom_domain": None,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    _documents_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DOCUMENTS_ROOT), "base_url": None},
    }
STORAGES = {
    "default": _default_storage,
    "documents": _documents_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email ------------------------------------------------------------------------------

EMAIL_URL = env.str("EMAIL_URL", default="")
# Without EMAIL_URL, email goes to the console: one line per message (recipients, subject,
# attachments with their sizes), or every message whole with EMAIL_CONSOLE_FULL=true.
EMAIL_CONSOLE_FULL = env.bool("EMAIL_CONSOLE_FULL", default=False)
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
elif EMAIL_CONSOLE_FULL:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
else:
    EMAIL_BACKEND = "apps.support.common.mail.SummaryEmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Parque Marino <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- Celery -----------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if not CELERY_BROKER_URL:
    # Eager mode never talks to a broker; the in-memory transport makes sure nothing tries to.
    # Celery still takes a producer on it for eager tasks (to serialize their arguments as a
    # worker would receive them), so the URL names a host: without one kombu warns "No
    # hostname was supplied" when it opens that connection.
    CELERY_BROKER_URL = "memory://localhost//"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
# Redis broker: a task taken by a worker that died (acks_late) is delivered again this many
# seconds after it was taken; keep it above the longest task and the longest retry countdown.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
# An email a task claimed and did not mark sent within this many seconds is taken over by the
# task's next delivery (apps.support.common.deliveries); above the longest send.
EMAIL_DELIVERY_LEASE_SECONDS = env.int(
    "EMAIL_DELIVERY_LEASE_SECONDS", default=CELERY_TASK_TIME_LIMIT
)
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# What `celery -A config beat` runs, all in this one place (times in TIME_ZONE, the park's);
# docs/deployment lists the same jobs with the command that does each from cron. Every job is
# idempotent and skips, never waits for, rows in use (docs/adr/0020).
CELERY_BEAT_SCHEDULE = {
    # Payments: unpaid orders whose hold ran out recorded as expired (seats stop counting at
    # the hold's end without it); Idempotency-Keys past their life pruned; failed webhook events
    # whose backoff ran out processed again; refunds the gateway did not answer sent again;
    # payment attempts whose call died before recording the gateway's answer asked again.
    "expire-orders": {"task": "payments.expire_orders", "schedule": 300.0},
    "prune-idempotency-keys": {"task": "payments.prune_idempotency_keys", "schedule": 3600.0},
    "retry-webhook-events": {"task": "payments.retry_webhook_events", "schedule": 60.0},
    "resend-pending-refunds": {"task": "payments.resend_pending_refunds", "schedule": 300.0},
    "resume-interrupted-payments": {
        "task": "payments.resume_interrupted_payments",
        "schedule": 300.0,
    },
    # Reconciliation: yesterday's and today's statements of every gateway, at 04:30 (after
    # PayPal's three-hour lag).
    "fetch-gateway-statements": {
        "task": "payments.fetch_statements",
        "schedule": crontab(hour=4, minute=30),
    },
    # Invoices and credit notes whose task was lost, issued (docs/adr/0023).
    "issue-missing-invoices": {"task": "invoicing.issue_missing", "schedule": 300.0},
    # Tickets: the slots of the coming 60 days from the opening schedules, daily.
    "generate-slots": {"task": "tickets.generate_slots", "schedule": crontab(hour=2, minute=15)},
    # Education: unanswered waitlist offers passed on and cancelled sessions' refunds
    # finished; tomorrow's reminders queued; sessions closed below their minimum flagged.
    "education-settle-waitlists": {"task": "education.settle_waitlists", "schedule": 300.0},
    "education-send-reminders": {"task": "education.send_reminders", "schedule": 3600.0},
    "education-check-minimums": {"task": "education.check_minimums", "schedule": 3600.0},
    # Exhibitions' scheduled (un)publications: the API is exact without it; this tidies rows.
    "publish-scheduled-exhibitions": {"task": "exhibitions.publish_scheduled", "schedule": 60.0},
    # Finance: the closed days of the last week not summarized yet (yesterday once it has been
    # over FINANCE_SUMMARY_LAG_MINUTES); a day already summarized costs one lookup.
    "finance-summarize-sales-days": {
        "task": "finance.summarize_sales_days",
        "schedule": crontab(minute=20),
    },
    # Documents deleted over DOCUMENTS_TRASH_DAYS ago, deleted for good with their files.
    "documents-empty-trash": {"task": "documents.empty_trash", "schedule": crontab(minute=40)},
    # Refresh tokens past their expiry, deleted.
    "flush-expired-tokens": {
        "task": "security.flush_expired_tokens",
        "schedule": crontab(hour=3, minute=10),
    },
}

# Reverse proxies in front of the service whose X-Forwarded-For is believed (0: none).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Django REST Framework --------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.NamespaceVersioning",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.StandardPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "api.filters.DjangoFilterBackend",
        "api.filters.AccentInsensitiveSearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies everywhere; the few uploads declare MultiPartParser on their own action.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonymousThrottle",
        "api.throttling.UserThrottle",
        "api.throttling.ScopedThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_RATE_ANON", default="120/minute"),
        "user": env.str("THROTTLE_RATE_USER", default="600/minute"),
        "login": env.str("THROTTLE_RATE_LOGIN", default="20/minute"),
        "register": env.str("THROTTLE_RATE_REGISTER", default="10/hour"),
        "password_reset": env.str("THROTTLE_RATE_PASSWORD_RESET", default="5/hour"),
        # Orders placed by guests (gifts without an account), per address.
        "guest_order": env.str("THROTTLE_RATE_GUEST_ORDER", default="30/hour"),
    },
    # 0: X-Forwarded-For is ignored (None would make DRF trust whatever the client sends).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

JWT_ACCESS_MINUTES = env.int("JWT_ACCESS_MINUTES", default=10)
JWT_REFRESH_DAYS = env.int("JWT_REFRESH_DAYS", default=7)
if not 1 <= JWT_ACCESS_MINUTES <= 15:
    raise ImproperlyConfigured("JWT_ACCESS_MINUTES must be between 1 and 15.")
if not 1 <= JWT_REFRESH_DAYS <= 7:
    raise ImproperlyConfigured("JWT_REFRESH_DAYS must be between 1 and 7.")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=JWT_ACCESS_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=JWT_REFRESH_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "ALGORITHM": "HS256",
    # Each run mode falls back to its SECRET_KEY once that is known.
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=""),
    "ISSUER": env.str("JWT_ISSUER", default="parque-marino"),
    "AUDIENCE": env.str("JWT_AUDIENCE", default="parque-marino-api"),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # last_login is updated by Django's user_logged_in signal, sent by the login service.
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# --- Sign-in lockout (django-axes) --------------------------------------------------------

# 5 failures per (email, client IP) lock that pair out for 15 minutes; other accounts on the
# same address (a school group on one Wi-Fi) keep signing in.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Django's authenticate() and the admin login form both call the identifier "username".
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "apps.support.security.lockout.username_from_credentials"
AXES_CLIENT_IP_CALLABLE = "apps.support.security.lockout.client_ip_address"
AXES_SENSITIVE_PARAMETERS = ["password", "password1", "password2", "new_password", "old_password"]
AXES_VERBOSE = False
# Counters live in the database, shared by every process and instance, and kept while Redis
# is down: a cache outage never lifts the lockout (docs/adr/0038).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# --- Password reset -----------------------------------------------------------------------

# The front end's page that receives ?uid=...&token=... and posts them to
# /api/v1/auth/password/reset/confirm/.
PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default="http://localhost:3000/reset-password")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3 * 3600)

# --- API documentation ------------------------------------------------------------------

SPECTACULAR_SETTINGS = {
    "TITLE": "Parque Marino API",
    "DESCRIPTION": (
        "Operations API of a marine park or aquarium: the park's sections, habitats and water "
        "quality; species and animal records; timed-entry tickets and check-in; orders, "
        "payments and refunds; invoices and credit notes; donations and campaigns; finance "
        "reports and reconciliation; education programs, sessions and enrollments; "
        "exhibitions; documents (versioned files, share links); accounts, roles and the audit "
        "trail.\n\n"
        "Every error has the `Error` shape; its `code` is stable (every code is listed in the "
        "repository's docs/api/errors.md). Every list is paginated "
        "(`{count, next, previous, results}`) except two short enumerations answered whole: "
        "conservation statuses and payment gateways.\n\n"
        "Language: Spanish by default. Send `Accept-Language: en` for English messages and "
        "texts (exhibitions also take `?lang=en`); the answer's `Content-Language` says which."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No online validator badge: it would send the schema's address to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": "none"},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "HabitatKindEnum": "apps.business.infrastructure.models.HabitatKind",
        "MedicalRecordKindEnum": "apps.business.wildlife.models.MedicalRecordKind",
        "WaterParameterEnum": "apps.business.infrastructure.models.WaterParameter",
        "AnimalStatusEnum": "apps.business.wildlife.models.AnimalStatus",
        "PaymentMethodEnum": "apps.business.payments.models.PaymentMethod",
        "PaymentStatusEnum": "apps.business.payments.models.PaymentStatus",
        "RefundStatusEnum": "apps.business.payments.models.RefundStatus",
        "RefundScopeEnum": "apps.business.payments.models.RefundScope",
        "WebhookEventStatusEnum": "apps.business.payments.models.WebhookStatus",
        "OrderChannelEnum": "apps.business.payments.models.Channel",
        "TicketStatusEnum": "apps.business.tickets.models.TicketStatus",
        "EnrollmentStatusEnum": "apps.business.education.models.EnrollmentStatus",
        "SessionStatusEnum": "apps.business.education.models.SessionStatus",
        "ExhibitionKindEnum": "apps.business.exhibitions.models.ExhibitionKind",
    },
    "PREPROCESSING_HOOKS": ["api.schema.only_api_paths"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.postprocess_schema",
    ],
}

# --- CORS -------------------------------------------------------------------------------

CORS_ALLOWED_ORIGINS: list[str] = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# A front end reads request ids, when to retry, a replayed answer and the ETags of public
# reads, and revalidates those with If-None-Match (docs/adr/0043).
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After", "Idempotent-Replayed", "ETag", "X-Cache"]
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "accept-language",
    "if-none-match",
    "idempotency-key",
    "x-order-token",  # a guest's order (donations without an account)
    "x-request-id",
)

# --- Security ---------------------------------------------------------------------------

CSRF_FAILURE_VIEW = "api.views.csrf_failure"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Largest request body the API accepts (bytes); larger bodies get 413 in the API's error shape.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# Deepest nesting of arrays and objects a JSON body may have (gateways' events nest about 8).
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=64)

# --- Wildlife ---------------------------------------------------------------------------

# Largest species picture accepted (bytes).
SPECIES_IMAGE_MAX_BYTES = env.int("SPECIES_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)

# --- Exhibitions (Wagtail: the editors' screen at /cms/, revisions, images) -------------

# Largest exhibition picture accepted (bytes), by the API and by the editors' screen.
EXHIBITION_IMAGE_MAX_BYTES = env.int("EXHIBITION_IMAGE_MAX_BYTES", default=8 * 1024 * 1024)
# The picture sizes front ends may ask for (?renditions=card,hero), as Wagtail filter specs.
# Each is made once, on first use, and kept in the storage backend beside the original.
EXHIBITION_RENDITIONS: dict[str, str] = {
    "thumbnail": "fill-320x180|format-webp",
    "card": "fill-640x360|format-webp",
    "hero": "fill-1600x900|format-webp",
    "gallery": "max-1200x1200|format-webp",
    "original": "original",
}
# How long a headless preview link lives unless its creator says otherwise (hours).
EXHIBITION_PREVIEW_LINK_HOURS = env.int("EXHIBITION_PREVIEW_LINK_HOURS", default=24)
WAGTAIL_SITE_NAME = "Parque Marino"
WAGTAILADMIN_BASE_URL = env.str("WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000")
WAGTAILIMAGES_IMAGE_MODEL = "exhibitions.ExhibitionImage"
WAGTAILIMAGES_MAX_UPLOAD_SIZE = EXHIBITION_IMAGE_MAX_BYTES
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000  # as the API (apps.support.common.images)
WAGTAILIMAGES_EXTENSIONS = ["jpg", "jpeg", "png", "webp"]
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILADMIN_PERMITTED_LANGUAGES = [("es", "Español"), ("en", "English")]
# Nothing leaves the machine: no release check, no avatars from Gravatar.
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAIL_WORKFLOW_ENABLED = False
WAGTAILADMIN_COMMENTS_ENABLED = False
# Passwords and email addresses change through the park's account services (tokens revoked,
# audited), not in the editors' screen.
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False

# --- Tickets and payments ---------------------------------------------------------------

# Currency of prices and orders (ISO 4217); gateways receive amounts in its minor units.
PAYMENTS_CURRENCY = env.str("PAYMENTS_CURRENCY", default="CRC")
# How long a pending order holds its seats; after that they stop counting, by time alone.
ORDER_HOLD_MINUTES = env.int("ORDER_HOLD_MINUTES", default=15)
# Gateways visitors may pay with. "sandbox" needs no network and approves by default; never
# enable it where real money is taken.
PAYMENT_GATEWAYS: list[str] = env.list("PAYMENT_GATEWAYS", default=["sandbox"])
PAYMENTS_SANDBOX_WEBHOOK_SECRET = env.str(
    "PAYMENTS_SANDBOX_WEBHOOK_SECRET", default="sandbox-webhook-secret-not-for-production"
)
# Stripe (PaymentIntents, confirmed in the browser by Stripe.js): on when listed in
# PAYMENT_GATEWAYS and its keys are set. Webhook endpoint: /api/v1/payments/webhooks/stripe/.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# PayPal Orders v2 (the buyer approves on PayPal, the park captures): on when listed and set.
# Webhook endpoint: /api/v1/payments/webhooks/paypal/ (its id from PayPal's dashboard).
PAYPAL_CLIENT_ID = env.str("PAYPAL_CLIENT_ID", default="")
PAYPAL_CLIENT_SECRET = env.str("PAYPAL_CLIENT_SECRET", default="")
PAYPAL_WEBHOOK_ID = env.str("PAYPAL_WEBHOOK_ID", default="")
PAYPAL_ENVIRONMENT = env.str("PAYPAL_ENVIRONMENT", default="sandbox")
# Seconds a call to a gateway may take before it counts as unanswered (then retried with the
# same idempotency key, never charged twice).
PAYMENTS_GATEWAY_TIMEOUT = env.float("PAYMENTS_GATEWAY_TIMEOUT", default=20.0)
# Seconds after which a payment attempt whose gateway answer was never recorded counts as
# interrupted (the call that started it died): the next pay of its order, or the
# resume-interrupted-payments job, fails it or asks the gateway again under its key. Above the
# longest a live gateway call can take: PayPal may send its call, fetch a new token and send
# it again, each within the timeout (docs/adr/0046).
PAYMENTS_ATTEMPT_ABANDONED_SECONDS = env.int("PAYMENTS_ATTEMPT_ABANDONED_SECONDS", default=120)
if PAYMENTS_ATTEMPT_ABANDONED_SECONDS <= 3 * PAYMENTS_GATEWAY_TIMEOUT:
    raise ImproperlyConfigured(
        "PAYMENTS_ATTEMPT_ABANDONED_SECONDS must be above three times PAYMENTS_GATEWAY_TIMEOUT: "
        "an attempt still waiting for its gateway would be taken for dead."
    )
# Where PayPal sends the buyer back after approving or cancelling (the front end's pages).
PAYMENTS_RETURN_URL = env.str("PAYMENTS_RETURN_URL", default="http://127.0.0.1:8000/")
PAYMENTS_CANCEL_URL = env.str("PAYMENTS_CANCEL_URL", default="http://127.0.0.1:8000/")
# A paid order may be cancelled (and refunded) by its visitor up to this many hours before
# the first visit it holds.
ORDER_CANCELLATION_HOURS = env.int("ORDER_CANCELLATION_HOURS", default=24)
# Most tickets one order line may hold.
TICKETS_MAX_PER_LINE = env.int("TICKETS_MAX_PER_LINE", default=60)
# A ticket is accepted at the gate from its slot's start minus this grace until its end plus it.
TICKETS_CHECK_IN_GRACE_MINUTES = env.int("TICKETS_CHECK_IN_GRACE_MINUTES", default=30)
# Longest wait for any lock (a hot time slot, the audit chain head); then the API answers 409
# busy with Retry-After instead of hanging.
LOCK_TIMEOUT_SECONDS = env.float("LOCK_TIMEOUT_SECONDS", default=3.0)
# Every lock wait of the database connection is bounded by it, set once per connection.
if _engine == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} -c lock_timeout={int(LOCK_TIMEOUT_SECONDS * 1000)}"
    ).strip()
elif _engine == "django.db.backends.mysql":
    DATABASES["default"]["OPTIONS"]["init_command"] = (
        f"SET SESSION innodb_lock_wait_timeout = {max(1, int(LOCK_TIMEOUT_SECONDS))}"
    )
# Optional read replica of DATABASE_URL's database, for the public catalogue's reads once what
# they show has been unchanged for DATABASE_REPLICA_LAG_SECONDS (docs/adr/0045).
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
DATABASE_REPLICA_LAG_SECONDS = env.float("DATABASE_REPLICA_LAG_SECONDS", default=10.0)
READ_REPLICA_ALIAS = ""
if DATABASE_REPLICA_URL:
    _replica = env.db_url_config(DATABASE_REPLICA_URL)
    if _replica.get("ENGINE") != _engine:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must be of DATABASE_URL's kind.")
    DATABASES["replica"] = {
        **copy.deepcopy(DATABASES["default"]),
        **{key: _replica[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")},
        "TEST": {"MIRROR": "default"},
    }
    # A hung replica must cost a read seconds, not a worker: then the primary answers.
    _replica_options = DATABASES["replica"].setdefault("OPTIONS", {})
    if _engine == "django.db.backends.postgresql":
        _replica_options["connect_timeout"] = 2
        _replica_options["options"] += " -c statement_timeout=5000"
    elif _engine == "django.db.backends.mysql":
        _replica_options.update(connect_timeout=2, read_timeout=5)
    READ_REPLICA_ALIAS = "replica"
if DATABASE_REPLICA_LAG_SECONDS < 0:
    raise ImproperlyConfigured("DATABASE_REPLICA_LAG_SECONDS must not be negative.")
DATABASE_ROUTERS = ["apps.support.common.replica.ReplicaRouter"]
# How long an Idempotency-Key's first answer is kept and replayed.
IDEMPOTENCY_KEY_HOURS = env.int("IDEMPOTENCY_KEY_HOURS", default=24)
# A key claimed by a request that never answered (its instance died) is free again after
# this; keep it above the longest a request may run (gunicorn's timeout, 30 s).
IDEMPOTENCY_ABANDONED_SECONDS = env.int("IDEMPOTENCY_ABANDONED_SECONDS", default=300)

# --- Audit -----------------------------------------------------------------------------

# Values under keys naming any of these never reach the audit trail. A key matches when one
# of its words (split at "_", "-", ".", spaces) is the marker, optionally followed by digits
# ("password1"), or when its words contain the marker's words in a row ("card_number").
AUDIT_MASKED_KEYS = (
    "password",
    "passwd",
    "token",
    "refresh",
    "jwt",
    "secret",
    "authorization",
    "api_key",
    "private_key",
    "card",
    "pan",
    "cvc",
    "cvv",
    "iban",
    "pin",
    "otp",
    "signature",
)

# --- Metrics ----------------------------------------------------------------------------

# /metrics is served only to a bearer of METRICS_TOKEN or to a client in METRICS_ALLOWED_IPS.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS: list[str] = env.list("METRICS_ALLOWED_IPS", default=[])

# --- Logging ----------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "apps.support.common.logging.RequestContextFilter"},
        "runserver_access": {"()": "apps.support.common.logging.DropRunserverAccessLines"},
    },
    "formatters": {
        "json": {
            "()": "apps.support.common.logging.JsonFormatter",
        },
        "text": {
            "format": (
                "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s user=%(user_id)s] %(message)s"
            ),
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_context"],
            "formatter": LOG_FORMAT,
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers give way to the root one: with DEBUG on they printed every
        # django.* line a second time, unformatted (and ADMINS, which mail_admins writes to,
        # is not set).
        "django": {"handlers": [], "propagate": True},
        # Requests are logged once, with their outcome, by RequestLogMiddleware: runserver's
        # access lines are dropped; its other warnings (HTTPS to it, malformed requests) stay.
        "django.server": {
            "level": "WARNING",
            "filters": ["runserver_access"],
            "propagate": True,
        },
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Invoices ---------------------------------------------------------------------------

from decimal import Decimal, InvalidOperation  # noqa: E402  (this block's own import)

# VAT included in every price, as a fraction: 0.13 is Costa Rica's 13 % IVA. Each line of an
# invoice states the tax inside its total, total - total / (1 + rate) rounded half up to
# cents, and the document's tax is the sum of its lines' (docs/api/invoices.md). A new rate
# applies to documents issued from then on; a credit note gives back the rate its invoice
# charged.
try:
    TAX_RATE = Decimal(env.str("TAX_RATE", default="0.13"))
except InvalidOperation as _error:
    raise ImproperlyConfigured("TAX_RATE must be a decimal fraction such as 0.13.") from _error
if not (
    TAX_RATE.is_finite()
    and Decimal(0) <= TAX_RATE < Decimal(1)
    and TAX_RATE.quantize(Decimal("0.0001")) == TAX_RATE
):
    raise ImproperlyConfigured("TAX_RATE must be from 0 to 0.9999, with four decimals at most.")
# Prefixes of the two numbering series: PM-2026-000123 for invoices, PMNC-2026-000007 for
# credit notes. Each counts from 1 every calendar year (the park's time zone), without gaps.
# Changing a prefix starts a new series; documents already issued keep their numbers.
INVOICE_SERIES = env.str("INVOICE_SERIES", default="PM")
CREDIT_NOTE_SERIES = env.str("CREDIT_NOTE_SERIES", default="PMNC")
for _series in (INVOICE_SERIES, CREDIT_NOTE_SERIES):
    if (
        not (_series.isascii() and _series.isalnum() and _series.upper() == _series)
        or len(_series) > 10
    ):
        raise ImproperlyConfigured(
            "INVOICE_SERIES and CREDIT_NOTE_SERIES are 1 to 10 capital letters or digits."
        )
# The seller every document prints (each keeps a copy as it was when it was issued).
SELLER_LEGAL_NAME = env.str("SELLER_LEGAL_NAME", default="Parque Marino del Pacífico S.A.")
SELLER_TAX_ID = env.str("SELLER_TAX_ID", default="3-101-000000")
SELLER_ADDRESS = env.str("SELLER_ADDRESS", default="Paseo de los Turistas, Puntarenas, Costa Rica")
SELLER_EMAIL = env.str("SELLER_EMAIL", default="facturacion@parquemarino.example")

# --- Education --------------------------------------------------------------------------

# How long a waitlisted enrollment may take up the seats offered to it; unanswered, the offer
# passes to the next in line by time alone (docs/adr/0028).
EDUCATION_OFFER_HOURS = env.int("EDUCATION_OFFER_HOURS", default=24)
# Most participants (students and teachers included) one enrollment may hold.
EDUCATION_MAX_PARTICIPANTS = env.int("EDUCATION_MAX_PARTICIPANTS", default=60)
# A visitor may cancel a paid enrollment (and be refunded) up to this many hours before the
# session; education staff may cancel any time before it starts.
EDUCATION_CANCELLATION_HOURS = env.int("EDUCATION_CANCELLATION_HOURS", default=48)
# When a new session's enrolment closes unless it says otherwise: this many hours before it.
EDUCATION_DEADLINE_HOURS = env.int("EDUCATION_DEADLINE_HOURS", default=24)
# The domain in the ids of calendar events sent with reminders (stable per park).
EDUCATION_CALENDAR_DOMAIN = env.str("EDUCATION_CALENDAR_DOMAIN", default="parquemarino.example")

# --- Finance reports --------------------------------------------------------------------

# A local day's sales are summarized (daily totals, read by the sales report instead of its
# order lines) once it has been over this many minutes (docs/adr/0030).
FINANCE_SUMMARY_LAG_MINUTES = env.int("FINANCE_SUMMARY_LAG_MINUTES", default=60)
if FINANCE_SUMMARY_LAG_MINUTES < 0:
    raise ImproperlyConfigured("FINANCE_SUMMARY_LAG_MINUTES must be 0 or more.")

# --- Donations --------------------------------------------------------------------------

# The smallest and the largest gift one donation line may carry, in PAYMENTS_CURRENCY
# (a campaign's suggested amounts must lie within them). Larger gifts are arranged with
# finance directly.
DONATION_MIN_AMOUNT = Decimal(env.str("DONATION_MIN_AMOUNT", default="500.00"))
DONATION_MAX_AMOUNT = Decimal(env.str("DONATION_MAX_AMOUNT", default="5000000.00"))
if not (Decimal(0) < DONATION_MIN_AMOUNT <= DONATION_MAX_AMOUNT < Decimal(10) ** 10):
    raise ImproperlyConfigured(
        "DONATION_MIN_AMOUNT must be above 0 and at most DONATION_MAX_AMOUNT (below 10^10)."
    )

# --- Documents ----------------------------------------------------------------------------

# Largest file one upload may carry (bytes); larger ones are refused, nothing stored.
DOCUMENTS_MAX_UPLOAD_BYTES = env.int("DOCUMENTS_MAX_UPLOAD_BYTES", default=25 * 1024 * 1024)
# Days a deleted document stays in the trash (restorable) before it is emptied for good.
DOCUMENTS_TRASH_DAYS = env.int("DOCUMENTS_TRASH_DAYS", default=30)
# Seconds a presigned download URL (S3) lives: long enough to start the download, no more.
DOCUMENTS_PRESIGNED_URL_SECONDS = env.int("DOCUMENTS_PRESIGNED_URL_SECONDS", default=60)
# Longest a share link may live (hours) and the most downloads it may allow.
DOCUMENTS_SHARE_LINK_MAX_HOURS = env.int("DOCUMENTS_SHARE_LINK_MAX_HOURS", default=24 * 30)
DOCUMENTS_SHARE_LINK_MAX_DOWNLOADS = env.int("DOCUMENTS_SHARE_LINK_MAX_DOWNLOADS", default=1000)
# Most characters of text kept from one PDF for search.
DOCUMENTS_MAX_TEXT_CHARS = env.int("DOCUMENTS_MAX_TEXT_CHARS", default=1_000_000)
if DOCUMENTS_TRASH_DAYS < 1 or DOCUMENTS_PRESIGNED_URL_SECONDS < 1:
    raise ImproperlyConfigured(
        "DOCUMENTS_TRASH_DAYS and DOCUMENTS_PRESIGNED_URL_SECONDS must be 1 or more."
    )
