# closedloop: `make run` runs one night end to end; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Where the local stack keeps its state (secrets, warehouse, Airflow home, logs).
LOCAL ?= .local
export CLOSEDLOOP_LOCAL_DIR := $(abspath $(LOCAL))
ENV := set -a && source $(LOCAL)/env.sh && set +a
NIGHT_END ?= $(shell date -u +%F)
# Every task writing to HubSpot shares this pool, so together they keep within its rate limit.
CRM_POOL_NOTE := HubSpot writes: one task at a time within the portal's rate limit

.PHONY: install dbt-parse up down run test lint airflow backfill clean browser data-docs-assets bench

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

# cosmos renders the DAG from dbt's manifest, so parsing the DAG never runs dbt.
dbt-parse: install
	cd dbt_project && DBT_SEND_ANONYMOUS_USAGE_STATS=False ../$(BIN)/dbt parse --profiles-dir . --quiet

up: install
	$(BIN)/python -m include.devstack up

down:
	$(BIN)/python -m include.devstack down

# One nightly run for yesterday: with a data-interval timetable, a run triggered for today's
# midnight covers the night that just ended.
run: up dbt-parse data-docs-assets
	$(ENV) && $(BIN)/airflow db migrate > $(LOCAL)/airflow-migrate.log 2>&1
	$(ENV) && $(BIN)/airflow pools set crm_hubspot_writes 1 "$(CRM_POOL_NOTE)" > /dev/null
	$(ENV) && $(BIN)/airflow dags test closed_loop_nightly $(NIGHT_END) > $(LOCAL)/last-run.log 2>&1 \
		|| (tail -n 60 $(LOCAL)/last-run.log; echo "the run failed; full log in $(LOCAL)/last-run.log"; exit 1)
	$(ENV) && $(BIN)/python -m closedloop.summary

# Headless Chromium opens the Data Docs in the tests (Debian's package; root installs it).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null)

# Data Docs' scripts and styles, from npm, so the docs open with no outside network.
DOCS_ASSETS := include/data_docs_assets/node_modules/.package-lock.json
$(DOCS_ASSETS): include/data_docs_assets/package-lock.json
	cd include/data_docs_assets && npm ci --no-audit --no-fund --ignore-scripts --silent

data-docs-assets: $(DOCS_ASSETS)

test: install dbt-parse browser data-docs-assets
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

# The Airflow UI (standalone: API server, scheduler, DAG processor, triggerer) on :8080.
airflow: up dbt-parse data-docs-assets
	$(ENV) && $(BIN)/airflow db migrate > $(LOCAL)/airflow-migrate.log 2>&1
	$(ENV) && $(BIN)/airflow pools set crm_hubspot_writes 1 "$(CRM_POOL_NOTE)" > /dev/null
	@echo "Airflow UI: http://localhost:$${AIRFLOW__API__PORT:-8080} (login printed below and kept in $(LOCAL)/airflow/simple_auth_manager_passwords.json.generated)"
	$(ENV) && PATH="$(abspath $(BIN)):$$PATH" exec $(BIN)/airflow standalone  # it starts `airflow` from PATH

# Backfill nights [FROM, TO] (logical dates: each is the night starting that day), newest
# first, on the scheduler `make airflow` runs.
backfill:
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD"; exit 2; }
	$(ENV) && $(BIN)/airflow backfill create --dag-id closed_loop_nightly \
		--from-date $(FROM) --to-date $(TO) --run-backwards

# Benchmarks (not tests): every figure of docs/BENCHMARKS.md beside its goal, in one run.
PROFILE ?= small
bench: install dbt-parse data-docs-assets
	$(BIN)/python -m bench.run --profile $(PROFILE)

clean: down
	rm -rf $(LOCAL) dbt_project/target dbt_project/logs
