"""Production settings plus the raw-SQL baseline routes, for benchmarks only.

The service runs exactly as deployed (gunicorn, PostgreSQL, Redis, DEBUG off); the only
changes are rate limits raised so the load generator is not throttled (see below), and logging
quieted so the terminal is not the bottleneck.
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import REST_FRAMEWORK

ROOT_URLCONF = "bench.urls"
# Throttling stays on (its cache round trips are part of every request), with a one-second
# window: the history it keeps per client stays as short as production's 120/minute keeps it,
# instead of growing to a minute of benchmark traffic.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "1000000/second"
)
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
LOGGING["loggers"]["parque_marino.request"] = {"level": "WARNING"}  # noqa: F405
