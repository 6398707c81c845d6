"""Settings for the test suite.

The database comes from ``DATABASE_URL`` when set (PostgreSQL in CI), else SQLite; the cache
from ``REDIS_URL`` when set, else local memory. Celery runs eagerly and email stays in memory.
"""

import os
from urllib.parse import urlsplit, urlunsplit

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"  # noqa: S105
SIMPLE_JWT["SIGNING_KEY"] = SECRET_KEY  # noqa: F405
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://localhost//"
# pytest-xdist runs the suite in several processes ("gw0", "gw1", ...). pytest-django gives
# each its own test database; each also gets its own media folder and its own Redis database
# (every test empties the cache, which must not wipe another process's counters).
XDIST_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
MEDIA_ROOT = os.path.join(
    env.str("TEST_MEDIA_ROOT", default=str(BASE_DIR / ".test-media")),  # noqa: F405
    str(XDIST_WORKER),
)
DOCUMENTS_ROOT = os.path.join(MEDIA_ROOT, "private-documents")
STORAGES["documents"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": DOCUMENTS_ROOT, "base_url": None},
}
if REDIS_URL:  # noqa: F405
    _redis = urlsplit(REDIS_URL)  # noqa: F405
    _database = int(_redis.path.strip("/") or 0) + XDIST_WORKER
    if _database > 13:  # 14 and 15 are the Celery round-trip test's broker and results
        raise ValueError(f"REDIS_URL's database + {XDIST_WORKER} workers is over 13")
    # A CI machine with every core busy may take longer than production's 0.25 s to answer:
    # that must not be taken for a hung Redis (tests/test_cache_outage.py sets its own).
    CACHES = {
        "default": redis_cache(  # noqa: F405
            urlunsplit(_redis._replace(path=f"/{_database}")), timeout=5.0
        )
    }
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
LOG_FORMAT = "text"
LOGGING["handlers"]["console"]["formatter"] = "text"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Throttling has tests of its own, which set low rates.
_rates = REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(_rates, "10000/minute")  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}  # noqa: F405
# A replica alias that is the test database itself, seen through a connection of its own:
# reads go there only where a test sets READ_REPLICA_ALIAS (tests/test_replica.py).
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
READ_REPLICA_ALIAS = ""
