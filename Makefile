# Blueprint — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench bench-quick db-stop venv deps node clean peer-venv static-vendor

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when requirements.txt changes.
$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

venv: $(VENV)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node:
	@if [ -f package.json ]; then $(MAKE) --no-print-directory node_modules/.installed; fi

deps: venv node

# The UI's front-end libraries (npm, pinned by package-lock.json) copied into static/vendor/.
static-vendor: node
	$(PYTHON) scripts/vendor_static.py

run: deps static-vendor
	$(PY) manage.py migrate --noinput
	HOST=$(HOST) PORT=$(PORT) $(PY) manage.py bootstrap_local
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) config.asgi:application

test: deps static-vendor
	bash scripts/ensure-redis.sh
	@if [ -x scripts/ensure-browser.sh ]; then bash scripts/ensure-browser.sh; fi
	$(PY) manage.py migrate --noinput >/dev/null
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check apps config tests bench
	$(VENV)/bin/mypy apps config

bench: deps
	$(PY) bench/history.py

bench-quick: deps
	$(PY) bench/history.py --quick

# LiteLLM's proxy for bench/peer_litellm.py, in a virtualenv of its own.
.venv-peer/.installed: bench/requirements-peer.txt
	$(PYTHON) -m venv .venv-peer
	.venv-peer/bin/python -m pip install -q -r bench/requirements-peer.txt
	touch $@

peer-venv: .venv-peer/.installed

db-stop: venv
	$(PY) -c "from config.embedded_db import stop; stop('$${EMBEDDED_PG_DATA:-var/pgdata}')"

clean:
	rm -rf $(VENV) node_modules
