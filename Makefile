# Quick start: `make run` serves the API with demo data; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV := .tools/bin/uv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: run test bench bench-tickets bench-campaigns bench-reports bench-exhibitions bootstrap install install-dev messages lint format typecheck migrations-check pytest worker serve clean

## run: install, migrate, load demo data and serve on http://127.0.0.1:8000
run: install messages
	@echo "Migrating the database..."
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

## test: lint, format check, type check, migrations check and the whole test suite
test: install-dev messages lint typecheck migrations-check pytest

bootstrap:
	scripts/bootstrap

install: bootstrap
	$(UV) sync --frozen --no-dev --inexact

install-dev:
	scripts/bootstrap --test-tools
	$(UV) sync --frozen --extra mysql

## messages: compile the Spanish translations (locale/*/LC_MESSAGES/django.po)
messages:
	$(PY) manage.py compilemessages --ignore=.venv --ignore=.tools -v0

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck:
	$(VENV)/bin/mypy .

migrations-check:
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run

## pytest: the test suite in PYTEST_WORKERS processes (pytest-xdist; "auto": one per core, at
## most 8, since each takes a Redis database; 0: one process)
PYTEST_WORKERS ?= auto
pytest:
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --maxprocesses 8 $(PYTEST_ARGS)

## bench: every benchmark (needs PostgreSQL and Redis on 127.0.0.1; installs wrk if missing)
bench: install-dev
	$(PY) bench/species_list.py
	$(PY) bench/tickets.py $(BENCH_TICKETS_ARGS)
	$(PY) bench/campaigns.py
	$(PY) bench/reports.py $(BENCH_REPORTS_ARGS)
	$(PY) bench/exhibitions.py

## bench-tickets: purchases, check-ins and availability against raw-SQL baselines, the audit chain's cost, open-loop latency
bench-tickets: install-dev
	$(PY) bench/tickets.py $(BENCH_TICKETS_ARGS)

## bench-campaigns: a campaign with 100,000 gifts read as fast as one with 10
bench-campaigns: install-dev
	$(PY) bench/campaigns.py

## bench-reports: the finance reports on a year of 3,000 orders a day, beside raw SQL
bench-reports: install-dev
	$(PY) bench/reports.py $(BENCH_REPORTS_ARGS)

## bench-exhibitions: the public exhibitions list and item against a raw-SQL baseline
bench-exhibitions: install-dev
	$(PY) bench/exhibitions.py

## worker: a Celery worker (needs CELERY_BROKER_URL)
worker: install
	$(VENV)/bin/celery -A config worker --loglevel INFO

## serve: production-like server (gunicorn, production settings from the environment)
serve: install
	$(PY) manage.py collectstatic --noinput
	$(VENV)/bin/gunicorn -c config/gunicorn.py config.wsgi

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache .test-media staticfiles
