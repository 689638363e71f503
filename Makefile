# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
VENDOR := src/cityhall/web/static/vendor
export PATH := $(BIN):$(PATH)

.PHONY: setup run test check lint format types contracts browser lock docs messages bench

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv

$(STAMP): pyproject.toml requirements.lock | $(PY)
	$(BIN)/uv pip install --python $(PY) -q -c requirements.lock -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR)/.stamp: $(NODE_STAMP) scripts/vendor-static.sh
	scripts/vendor-static.sh $(VENDOR)
	@touch $@

setup: $(STAMP) $(VENDOR)/.stamp
	$(PY) -c "from cityhall.core.i18n import compile_catalogs; compile_catalogs()"

## Set everything up and serve the platform with demo data on http://127.0.0.1:$${CITYHALL_PORT:-8000}
run: setup
	$(BIN)/cityhall run

## Set everything up and run the whole test suite
test: setup browser
	$(BIN)/pytest

browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

types: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

## What CI runs
check: lint types contracts test

lock: $(PY)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -q -o requirements.lock

docs: $(STAMP)
	$(BIN)/cityhall config docs --output docs/configuration.md

bench: setup
	$(PY) bench/audit_append.py

## Extract user-facing messages and update the catalogs (then translate locale/en/.../messages.po)
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords $$($(PY) -c "from cityhall.core.i18n import EXTRACT_KEYWORDS as k; print(' '.join('-k ' + n + (':' + ','.join(map(str, v)) if v else '') for n, v in k.items()))") --no-location --sort-output -o src/cityhall/locale/messages.pot src
	$(BIN)/pybabel update -i src/cityhall/locale/messages.pot -d src/cityhall/locale --no-fuzzy-matching --ignore-obsolete
