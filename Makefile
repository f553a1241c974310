# KetaCare: `make demo` runs the app with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help demo test test-fast lint fmt typecheck test-core test-app test-e2e bench docs clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "KetaCare needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,production]"
	@touch $(STAMP)

# The demo runs without Django's debug pages (plain 404 and 500), and every link it prints
# (sign-in, the patient portal) names the host and port actually served, unless
# KETACARE_PUBLIC_URL says where patients reach it.
DEMO_ENV = DJANGO_DEBUG=0 KETACARE_PUBLIC_URL=$${KETACARE_PUBLIC_URL:-http://$(HOST):$(PORT)} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost,$(HOST)}

demo: $(STAMP) ## Load demo data into SQLite and serve on http://$(HOST):$(PORT) (HOST=, PORT=)
	$(DEMO_ENV) $(BIN)/ketacare init-demo
	$(DEMO_ENV) $(BIN)/ketacare serve --host $(HOST) --port $(PORT)

lint: $(STAMP) ## ruff, import contracts, migrations, generated docs and the hazard log up to date
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_imports.py
	$(BIN)/ketacare makemigrations --check --dry-run
	$(BIN)/ketacare permissions-doc --check
	$(BIN)/ketacare session-states-doc --check
	$(BIN)/python -m ketacare.clinical.sources_doc --check
	$(BIN)/python -m ketacare.clinical.hazard_doc --check

typecheck: $(STAMP) ## mypy (strict for the clinical core)
	$(BIN)/mypy src

test-core: $(STAMP) ## The pure clinical core, with its coverage (must be >= 95%)
	$(BIN)/pytest tests/clinical -p no:django -W ignore::pytest.PytestConfigWarning -q \
		--cov=ketacare.clinical --cov-branch \
		--cov-report=term-missing:skip-covered --cov-fail-under=95

# Workers for the app tier: one per core (at least 2); `make test-app WORKERS=1` runs serially.
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -lt 2 ] && n=2; echo $$n)
# The app tier (everything but the pure core) must keep this much of its lines and branches covered.
APP_COVERAGE ?= 88
APP_COV = --cov --cov-config=tests/coverage-app.toml --cov-report=term:skip-covered \
	--cov-fail-under=$(APP_COVERAGE)

test-app: $(STAMP) ## Services, API, pages and browser journeys, in parallel, with coverage; slowest listed
	$(BIN)/pytest tests --ignore=tests/clinical -q -n $(WORKERS) --durations=15 $(APP_COV)

test-fast: test-core ## The edit loop: the core, then the app tier without the browser, in parallel
	$(BIN)/pytest tests --ignore=tests/clinical --ignore=tests/e2e -q -n $(WORKERS) --durations=10

test: lint typecheck test-core test-app ## Everything CI runs

fmt: $(STAMP) ## Format and fix what ruff can
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

docs: $(STAMP) ## Regenerate the generated docs (permissions, session states, sources, hazard log)
	$(BIN)/ketacare permissions-doc
	$(BIN)/ketacare session-states-doc
	$(BIN)/python -m ketacare.clinical.sources_doc
	$(BIN)/python -m ketacare.clinical.hazard_doc

bench: $(STAMP) ## Benchmarks at 1k/10k/100k patients (SQLite; PostgreSQL too with DATABASE_URL) into docs/performance.md
	$(BIN)/python -m bench

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
