"""Embedded defaults for a laptop: ``make run`` needs nothing but Python.

SQLite file, local-memory cache, local media folder, console email, eager Celery and the
sandbox payment gateway, unless the corresponding variable is set (see base.py).
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="development-only-key-never-used-in-production-0123456789abcdefghij",
)
SIMPLE_JWT["SIGNING_KEY"] = SIMPLE_JWT["SIGNING_KEY"] or SECRET_KEY  # noqa: F405
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS", default=["http://localhost:3000", "http://localhost:5173"]
)
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT  # noqa: F405
# Quiet what a developer does not need line by line: each in-process (eager) task's
# "succeeded" (a failing one raises in the request that ran it), and Wagtail's
# "Edited"/"Published" lines, which the audit trail records anyway.
if CELERY_TASK_ALWAYS_EAGER:  # noqa: F405
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}  # noqa: F405
LOGGING["loggers"]["wagtail"] = {"level": "WARNING"}  # noqa: F405
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# runserver serves static files from the apps' folders; nothing needs collecting.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
