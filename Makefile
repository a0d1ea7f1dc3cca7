# Tenantry — `make run` and `make test` work on a machine with only Python 3.11, git and make.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | sha1sum | cut -c1-12)
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run test bench lint format venv clean-data

$(STAMP):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

venv: $(STAMP)

## Run the platform with the demo tenants on http://localhost:8000 (Ctrl-C stops it all).
run: $(STAMP)
	$(PY) -m config.devstack run

## Run the whole test suite against a throwaway embedded PostgreSQL and Redis.
test: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m config.devstack test -- $(PY) -m pytest $(PYTEST_ARGS)

## Benchmarks; figures go to docs/benchmarks.md.
bench: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m config.devstack test -- $(PY) -m bench.run_all

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean-data:
	rm -rf .data
