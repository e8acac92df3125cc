# bidhall — `make run` serves the platform, `make test` runs the whole suite. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run serve test lint format messages install install-dev clean fuzz-api

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "bidhall needs Python 3.11 (set PYTHON=/path/to/python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run messages ## create .venv and install the runtime dependencies

install-dev: $(VENV)/.installed-dev messages ## install runtime + test/lint dependencies

messages: $(VENV)/.installed-run ## compile locale/*.po into .mo (pure Python, no gettext needed)
	$(BIN)/pybabel compile -d locale -D django

# The demo server runs in development mode (DEBUG on, development secrets, the bank simulator); the
# settings default to production, which refuses all three. DEBUG=0 make serve still says otherwise.
run serve: export DEBUG ?= 1

run: install ## migrate, seed demo data, start daphne and the clock (development mode), print URL and logins
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py seed_demo
	@$(MAKE) --no-print-directory serve

serve: ## start daphne and the background clock together (Ctrl-C stops both)
	@echo ""
	@echo "  bidhall is at http://$(HOST):$(PORT)/   (API docs: http://$(HOST):$(PORT)/api/v1/docs/)"
	@if [ "$$DEBUG" = 1 ]; then echo "  Development mode (DEBUG=1): development secrets and the bank simulator are on; never expose it."; fi
	@echo "  Logins are printed above; all demo users share the password bidhall-demo-2026."
	@echo ""
	@trap 'kill $$clock 2>/dev/null; wait' EXIT INT TERM; \
	  $(BIN)/python manage.py run_clock & clock=$$!; \
	  $(BIN)/daphne -b $(HOST) -p $(PORT) asgi:application

test: install-dev ## run the whole test suite (SQLite, or DATABASE_URL/REDIS_URL when set; config/settings_test.py)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

fuzz-api: install-dev ## schemathesis over the whole API as every role + the unsafe-text probe (DATABASE_URL: PostgreSQL)
	$(BIN)/python bench/schemathesis_pass.py $(FUZZ_ARGS)

lint: install-dev ## ruff lint and format check, then mypy against mypy-baseline.txt (bench/mypy_baseline.py)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python bench/mypy_baseline.py

format: install-dev ## apply ruff's formatting and import order
	$(BIN)/ruff check --fix --select I .
	$(BIN)/ruff format .

clean: ## remove the virtualenv, databases and collected static files
	rm -rf $(VENV) db.sqlite3* test_db.sqlite3* staticfiles
