# Veil. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
SYNCED := $(VENV)/.synced
export UV_PROJECT_ENVIRONMENT := $(VENV)
DEMO_PERSONS ?= 200000

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets with a line each
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet uv==$(UV_VERSION)

$(SYNCED): pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --all-groups --quiet --compile-bytecode
	@touch $@

.PHONY: install
install: $(SYNCED) ## Create .venv and install the locked dependencies

.PHONY: run
run: install ## Initialise, load a synthetic demo population, and serve on 127.0.0.1:8000
	$(VENV)/bin/veil init
	@if [ ! -f .veil/demo.csv ]; then \
	  $(VENV)/bin/veil synth --persons $(DEMO_PERSONS) --seed 1 --bad-rows 0.001 --out .veil/demo.csv && \
	  ($(VENV)/bin/veil ingest .veil/demo.csv || [ $$? -eq 1 ]); \
	fi
	$(VENV)/bin/python scripts/demo-orgs
	VEIL_IDENTITY_CHECK=demo $(VENV)/bin/veil serve --host 127.0.0.1 --port 8000

AXE := tests/browser/node_modules/axe-core/axe.min.js

.PHONY: test-deps
test-deps: install $(AXE) ## Install what the tests need: PostgreSQL server; poppler and a CJK font (certificates); Chromium and axe-core (pages)
	@scripts/system-deps postgresql poppler-utils poppler-data fonts-arphic-uming chromium

# axe-core, pinned by tests/browser/package-lock.json, for the pages' accessibility checks.
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null || scripts/system-deps npm
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: messages
messages: install ## Extract the pages' strings and add them to the zh and en catalogues (veil/web/locale)
	@pot=$$(mktemp --suffix=.pot) && \
	  $(VENV)/bin/pybabel -q extract -F pyproject.toml --add-location=file --sort-by-file \
	    --project=Veil --version=$$($(VENV)/bin/python -c 'import veil; print(veil.__version__)') \
	    -o $$pot veil/web && \
	  $(VENV)/bin/pybabel -q update -i $$pot -d veil/web/locale --no-fuzzy-matching --ignore-obsolete && \
	  rm -f $$pot
	@echo "Now translate the new entries in veil/web/locale/zh/LC_MESSAGES/messages.po"

.PHONY: test
test: test-deps ## Run the whole suite (SQLite and a real PostgreSQL), lint and schema checks
	$(UV) lock --check --quiet
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

.PHONY: test-fast
test-fast: install ## Unit tests on SQLite only, no slow process tests
	$(VENV)/bin/pytest -m "not slow" -k "not postgresql"

.PHONY: lint
lint: install ## Ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

.PHONY: bench
bench: install ## Ingest benchmark: 1 M and 4 M records into SQLite (not part of `make test`)
	$(VENV)/bin/python benchmarks/ingest.py

.PHONY: bench-ingest-floor
bench-ingest-floor: install ## Ingest's SQLite floor: the rows ingest writes, by SQLite alone, vs the baseline (not in `make test`)
	$(VENV)/bin/python benchmarks/ingest_floor.py

.PHONY: bench-sweep
bench-sweep: install ## Sealing sweep benchmark: 10 M records on DuckDB, 1 M on SQLite (not in `make test`)
	$(VENV)/bin/python benchmarks/sweep.py

.PHONY: bench-audit
bench-audit: install ## Audit ledger benchmark: verify 1 M entries, group-commit appends (not in `make test`)
	$(VENV)/bin/python benchmarks/audit_verify.py

.PHONY: clean
clean: ## Remove the virtual environment and local data
	rm -rf $(VENV) .veil tests/browser/node_modules

.PHONY: bench-disclose
bench-disclose: install ## Disclosure benchmark: audited disclosures/s over HTTP, ledger on vs off (not in `make test`)
	@scripts/system-deps wrk
	$(VENV)/bin/python benchmarks/disclose.py
