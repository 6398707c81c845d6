# The service's image: gunicorn (web), Celery worker and beat, and the release commands
# (migrate), one image for all of them (docs/deployment, "Containers").
#
#   docker build -t parque-marino:2026.12 .
#
# Production settings, read from the environment at start; nothing secret is in the image.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the locked dependencies, the compiled translations and the static files --------
FROM ${PYTHON_IMAGE} AS build

ARG UV_VERSION=0.13.9
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never

RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/* \
    && pip install "uv==${UV_VERSION}"

WORKDIR /app
# Dependencies first, from the lock file alone: a change of code reuses this layer.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN uv sync --frozen --no-dev \
    && /opt/venv/bin/python manage.py compilemessages --ignore=.venv --ignore=.tools -v0
# collectstatic needs settings that load; these placeholders exist for this one command and
# are not kept in the image (each container gets the real ones from its environment).
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    SECRET_KEY=build-only-collectstatic-placeholder-not-a-secret-0123456789abcdef \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://build.invalid:6379/0 \
    CELERY_BROKER_URL=redis://build.invalid:6379/1 \
    SELLER_LEGAL_NAME=build SELLER_TAX_ID=build SELLER_ADDRESS=build \
    STATIC_ROOT=/app/staticfiles \
    /opt/venv/bin/python manage.py collectstatic --noinput -v0

# --- runtime: the virtual environment and the code, run by an unprivileged user ------------
FROM ${PYTHON_IMAGE} AS runtime

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media \
    DOCUMENTS_ROOT=/data/documents \
    GUNICORN_BIND=0.0.0.0:8000

# postgresql-client: pg_dump and pg_restore for scripts/backup and scripts/restore.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 parque \
    && useradd --system --uid 10001 --gid parque --home-dir /app --shell /usr/sbin/nologin parque \
    && mkdir -p /data/media /data/documents \
    && chown -R parque:parque /data

COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /app /app
WORKDIR /app
USER 10001:10001

EXPOSE 8000
# Liveness of the process only (docs/deployment, "Health"); orchestrators probe
# /health/ready/ for readiness themselves.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "scripts/healthcheck"]

# The web process; the worker, beat and release commands are given by the orchestrator:
#   celery -A config worker --loglevel INFO
#   celery -A config beat --loglevel INFO --schedule /tmp/celerybeat-schedule
#   python manage.py migrate --noinput
# The gunicorn workers add up their metrics in PROMETHEUS_MULTIPROC_DIR, made (empty) at each
# start: /tmp may be a fresh volume (Kubernetes' emptyDir), where nothing of the image is.
CMD ["sh", "-c", "export PROMETHEUS_MULTIPROC_DIR=\"${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus}\" && rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && exec gunicorn -c config/gunicorn.py config.wsgi"]
