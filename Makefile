# PayFlow: `make run` starts everything locally, `make test` runs the suite.
# Needs only Python 3.11+ and make: every other dependency is installed here.

PYTHON ?= python3
VENV := .venv
AWS_VENV := .venv-ministack
PY := $(VENV)/bin/python
PIP_FLAGS := --quiet --disable-pip-version-check
PYTEST := $(PY) -m pytest

.DEFAULT_GOAL := help
.PHONY: help setup run bench test test-unit test-e2e test-production chaos lint format requirements clean

help:
	@echo "make run               set up and run the whole platform (web, worker, beat, AWS emulator)"
	@echo "make bench             load the local stack (gunicorn + worker); figures in bench-results.json"
	@echo "make test              set up and run the whole test suite with coverage"
	@echo "make test-unit         unit and service tests only (moto, no emulator)"
	@echo "make test-e2e          end-to-end tests (emulator, real Celery worker, real server)"
	@echo "make test-production   database and cache tests against PostgreSQL and Redis"
	@echo "make chaos             the fault-injection suite (outages, kill -9, duplicates, soak)"
	@echo "make lint              ruff"
	@echo "make requirements      recompile requirements/*.txt from requirements/*.in"
	@echo "make clean             remove virtualenvs and local state (all local data)"

# The app's virtualenv, reinstalled whenever the pinned requirements change.
$(VENV)/.installed: requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) --upgrade pip
	$(PY) -m pip install $(PIP_FLAGS) -r requirements/dev.txt
	touch $@

# The emulator pins its own botocore, so it lives in a virtualenv of its own.
$(AWS_VENV)/.installed: requirements/ministack.txt
	test -x $(AWS_VENV)/bin/python || $(PYTHON) -m venv $(AWS_VENV)
	$(AWS_VENV)/bin/python -m pip install $(PIP_FLAGS) -r requirements/ministack.txt
	touch $@

setup: $(VENV)/.installed $(AWS_VENV)/.installed

run: setup
	$(PY) -m payflow.devstack

bench: setup
	$(PY) -m payflow.devstack.bench

test: setup
	$(PYTEST) -m "not chaos" --cov --cov-report=term:skip-covered

test-unit: setup
	$(PYTEST) -m "not e2e and not chaos"

test-e2e: setup
	$(PYTEST) -m "e2e and not chaos"

# Faults injected into the running stack; money checked after each. The soak
# runs CHAOS_SOAK_SECONDS (10 minutes unless told otherwise).
CHAOS_SOAK_SECONDS ?= 600
chaos: setup
	CHAOS_SOAK_SECONDS=$(CHAOS_SOAK_SECONDS) $(PYTEST) -m chaos -p no:cacheprovider

# The production profile: the same suite's database and cache tests against
# the PostgreSQL and Redis on loopback (as on the CI machine).
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/payflow
REDIS_URL ?= redis://127.0.0.1:6379/15
test-production: setup
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(PYTEST) -m "not e2e and not chaos" -p no:cacheprovider

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

requirements: setup
	cd requirements && for name in base production dev ministack; do \
		../$(VENV)/bin/pip-compile --quiet --strip-extras --no-header --allow-unsafe --no-emit-index-url --no-emit-find-links $$name.in -o $$name.txt; \
	done

clean:
	rm -rf $(VENV) $(AWS_VENV) .state .pytest_cache .coverage htmlcov
