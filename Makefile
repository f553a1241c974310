# KetaCare: `make demo` runs the app with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help demo test lint fmt typecheck test-core test-app test-e2e bench docs clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "KetaCare needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,production]"
	@touch $(STAMP)

demo: $(STAMP) ## Load demo data into SQLite and serve on http://127.0.0.1:8000
	$(BIN)/ketacare init-demo
	$(BIN)/ketacare serve --host $(HOST) --port $(PORT)

lint: $(STAMP) ## ruff, import contracts, migrations and generated docs up to date
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_imports.py
	$(BIN)/ketacare makemigrations --check --dry-run
	$(BIN)/ketacare permissions-doc --check
	$(BIN)/ketacare session-states-doc --check
	$(BIN)/python -m ketacare.clinical.sources_doc --check

typecheck: $(STAMP) ## mypy (strict for the clinical core)
	$(BIN)/mypy src

test-core: $(STAMP) ## The pure clinical core, with its coverage (must be >= 95%)
	$(BIN)/pytest tests/clinical -p no:django -W ignore::pytest.PytestConfigWarning -q \
		--cov=ketacare.clinical --cov-branch \
		--cov-report=term-missing:skip-covered --cov-fail-under=95

test-app: $(STAMP) ## Services, API, pages and browser journeys against the configured database
	$(BIN)/pytest tests --ignore=tests/clinical -q

test: lint typecheck test-core test-app ## Everything CI runs

fmt: $(STAMP) ## Format and fix what ruff can
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

docs: $(STAMP) ## Regenerate docs/permissions.md, docs/session-states.md, docs/clinical-sources.md
	$(BIN)/ketacare permissions-doc
	$(BIN)/ketacare session-states-doc
	$(BIN)/python -m ketacare.clinical.sources_doc

bench: $(STAMP) ## Benchmarks (figures go in the issue notes)
	$(BIN)/python -m bench

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
