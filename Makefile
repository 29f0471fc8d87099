# courseplatform — see README.md. `make demo` runs it; `make test` tests it.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
PYTHON_BIN ?= python3
UV := $(PYTHON_BIN) -m uv
VENV := .venv
PY := $(VENV)/bin/python
COVERAGE := $(VENV)/bin/coverage
PORT ?= 8000
export PORT

# The test suite's own PostgreSQL database and its three roles (runtime, owner, platform;
# created by the suite), and Redis db 15.
PG_HOST ?= 127.0.0.1:5432
TEST_DB ?= courseplatform_test
TEST_ENV = DATABASE_URL=postgres://cp_app@$(PG_HOST)/$(TEST_DB) \
	DATABASE_OWNER_URL=postgres://cp_owner@$(PG_HOST)/$(TEST_DB) \
	DATABASE_PLATFORM_URL=postgres://cp_platform@$(PG_HOST)/$(TEST_DB) \
	DATABASE_ADMIN_URL=$${DATABASE_ADMIN_URL:-postgres://postgres@$(PG_HOST)/postgres} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
	CACHE_KEY_PREFIX=$(TEST_DB) PLATFORM_DOMAIN=localhost VAR_DIR=$(CURDIR)/var/test

.PHONY: help setup python-deps assets static migrate demo serve dev test lint bench system-deps clean messages compile-messages

help:
	@echo "make demo   - install everything, seed the demo school, serve on :$(PORT)"
	@echo "make test   - run the whole test suite (PostgreSQL, Redis, SeaweedFS, Chromium)"
	@echo "make serve  - app server (granian) + task worker + periodic jobs on :$(PORT)"
	@echo "make dev    - the same with runserver and autoreload, for development"
	@echo "make setup | lint | bench | clean"

$(VENV)/.synced: pyproject.toml uv.lock
	@$(PYTHON_BIN) -m uv --version >/dev/null 2>&1 || $(PYTHON_BIN) -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

python-deps: $(VENV)/.synced

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	@touch $@

courseplatform/static/dist/.built: frontend/node_modules/.installed $(shell find frontend/src -type f 2>/dev/null) $(shell find templates courseplatform -name '*.html' 2>/dev/null)
	cd frontend && npm run build
	@touch $@

# Compiled translation catalogs (.mo) are built from the committed .po files, never
# committed (scripts/messages.py; README "Languages").
var/.messages: $(VENV)/.synced $(shell find locale courseplatform -name '*.po' 2>/dev/null)
	@mkdir -p var
	$(PY) scripts/messages.py compile
	@touch $@

compile-messages: var/.messages

# After marking new strings: add them to every catalog, then translate them.
messages: python-deps
	$(PY) scripts/messages.py update

assets: courseplatform/static/dist/.built var/.messages

migrate: python-deps
	$(PY) manage.py migrate --noinput

setup: python-deps assets migrate

demo: setup
	$(PY) manage.py seed_demo
	@$(MAKE) --no-print-directory serve

# The production entry point (README "Production"): granian configured by
# deploy/web.py, the task worker and the periodic jobs, supervised.
serve: python-deps assets static
	STATIC_MANIFEST=true $(PY) scripts/serve.py

# Static files as production serves them: content-hashed names and gzip copies in
# STATIC_ROOT (var/static), which WhiteNoise serves with far-future cache headers.
static: python-deps assets
	STATIC_MANIFEST=true $(PY) manage.py collectstatic --noinput -v0

# Development: runserver with autoreload (DEBUG on unless set), the worker reloads too.
dev: python-deps assets
	$(PY) scripts/serve.py --dev

system-deps:
	bash scripts/install-system-deps.sh

# pytest under coverage.py (config in pyproject.toml), then one combined report. The floor
# (fail_under) applies to the whole suite; a PYTEST_ARGS subset only prints its figures.
# Fails when pytest fails, and when the whole suite's coverage is below the floor.
test: system-deps python-deps assets
	$(VENV)/bin/lint-imports --no-logo
	@mkdir -p var/coverage
	$(COVERAGE) erase
	$(TEST_ENV) $(COVERAGE) run -m pytest $(PYTEST_ARGS); tests=$$?; \
	$(COVERAGE) combine --quiet && \
	$(COVERAGE) report $(if $(strip $(PYTEST_ARGS)),--fail-under=0); report=$$?; \
	if [ $$tests -ne 0 ]; then echo "make test: pytest failed (exit $$tests)" >&2; exit $$tests; fi; \
	if [ $$report -ne 0 ]; then echo "make test: coverage below the floor (exit $$report)" >&2; fi; \
	exit $$report

lint: python-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy courseplatform
	$(VENV)/bin/lint-imports --no-logo
	$(VENV)/bin/hadolint Dockerfile

# BENCH_STARTED_AT: the report's time budget counts the roles and migrations too.
bench: TEST_DB = courseplatform_bench
bench: python-deps assets system-deps
	$(TEST_ENV) BENCH_STARTED_AT=$$(date +%s.%N) bash -c '$(PY) scripts/pg_roles.py --recreate && $(PY) manage.py migrate -v0 && $(PY) bench/run.py $(BENCH_ARGS)'

clean:
	rm -rf $(VENV) frontend/node_modules courseplatform/static/dist var/test var/coverage test-output
