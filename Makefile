# Next steps: make targets a newcomer guesses.  `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
BOOTSTRAP := .uv
UV := $(BOOTSTRAP)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

# The embedded default: DuckDB warehouse and outputs under ./data, SQLite Airflow metadata
# under ./.airflow.  Every NEXT_STEPS_* and AIRFLOW__* setting can be overridden.
export NEXT_STEPS_DATA_DIR ?= $(CURDIR)/data
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER ?= $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export GX_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

DEMO_DATE ?= $(shell date -u -d yesterday +%F)
DEMO_ORDERS ?= 100000
DEMO_SEED ?= 42
SIZES ?= 100000,1000000,10000000
NIGHTS ?= 365
YEAR_ORDERS ?= 1000000

# Values a user may set on the command line reach the recipes only through the
# environment, and the recipes quote them ("$$DATE"): make never pastes one into a
# shell command line, so no value is ever interpreted by a shell.
# A value from the command line or the environment is kept as typed (make would otherwise
# expand a `$(...)` in it, `$(shell ...)` included).
USER_VARIABLES := PYTHON DATE DEMO_DATE DEMO_ORDERS DEMO_SEED SIZES NIGHTS YEAR_ORDERS AIRFLOW_PORT \
	NEXT_STEPS_DATA_DIR AIRFLOW_HOME
$(foreach name,$(USER_VARIABLES),$(if $(filter command environment,$(firstword $(origin $(name)))),\
	$(eval override $(name) := $$(value $(name)))))
export $(USER_VARIABLES)

.PHONY: help install browser demo generate run airflow test check lint bench bench-year docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## install the locked dependencies into .venv

# --compile-bytecode: uv writes no .pyc by default, and where PYTHONDONTWRITEBYTECODE is set
# (it is on these machines) nothing ever does, so every task process would compile Great
# Expectations, dbt and Airflow from source on import (GX alone: 5.5 s of a 9.8 s import).
$(VENV)/.installed: pyproject.toml uv.lock
	"$$PYTHON" -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"
	UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --compile-bytecode --python "$$PYTHON"
	touch $@

$(AIRFLOW_HOME)/.migrated: $(VENV)/.installed
	mkdir -p "$$AIRFLOW_HOME"
	$(BIN)/airflow db migrate > "$$AIRFLOW_HOME/migrate.log" 2>&1 || { cat "$$AIRFLOW_HOME/migrate.log"; exit 1; }
	$(BIN)/airflow pools set next_steps_warehouse 1 "Next steps: one night writes the DuckDB warehouse at a time" >> "$$AIRFLOW_HOME/migrate.log" 2>&1 || { cat "$$AIRFLOW_HOME/migrate.log"; exit 1; }
	touch "$$AIRFLOW_HOME/.migrated"

generate: install ## write a sample export: DEMO_DATE, DEMO_ORDERS, DEMO_SEED
	$(BIN)/python -m next_steps.sample.generator --landing "$$NEXT_STEPS_DATA_DIR/landing" \
		--date "$$DEMO_DATE" --orders "$$DEMO_ORDERS" --seed "$$DEMO_SEED"

# DATE is checked (a real YYYY-MM-DD) with the system Python before anything is installed
# or started; run_night.py exits non-zero and says why unless every task of the night ran.
run: ## run one night through Airflow: make run DATE=YYYY-MM-DD
	@"$$PYTHON" scripts/run_night.py --check "$$DATE"
	@$(MAKE) --no-print-directory install "$$AIRFLOW_HOME/.migrated"
	@$(BIN)/python scripts/run_night.py "$$DATE"

demo: ## generate a sample export and run its night end to end
	$(MAKE) generate
	$(MAKE) run DATE="$$DEMO_DATE"

airflow: install $(AIRFLOW_HOME)/.migrated ## Airflow's web UI here (SQLite metadata, the nights run); Ctrl-C stops it
	@$(BIN)/python scripts/airflow_ui.py

# Two workers, each given whole files (a file's fixtures are built once, on one worker);
# conftest.py starts the files with slow tests first.
test: install browser ## run the whole test suite (CI runs this)
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=10

check: install browser ## the quick tests while working: no Airflow process, no whole night
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow"

# Debian's chromium and chromedriver, for the report's tests (headless); root or sudo.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$$SUDO apt-get install -y -qq chromium chromium-driver > /dev/null; }

bench: install ## time whole nights against DuckDB and pandas baselines: make bench SIZES=1000000
	$(BIN)/python benchmarks/run_bench.py --sizes "$$SIZES" --write docs/benchmarks.md

bench-year: install ## a year of nights: time and disk per night: make bench-year NIGHTS=30 YEAR_ORDERS=100000
	$(BIN)/python benchmarks/run_year.py --nights "$$NIGHTS" --orders "$$YEAR_ORDERS" --write docs/benchmarks.md

docs: install ## dbt docs and Great Expectations data docs into data/docs (NEXT_STEPS_DATA_DIR)
	$(BIN)/python -m next_steps.publish.docs

lint: install ## ruff on the Python code, sqlfluff on the dbt project (config: .sqlfluff)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	NEXT_STEPS_WAREHOUSE=:memory: $(BIN)/sqlfluff lint dbt_project

clean: ## remove generated data, Airflow home and build output (not .venv)
	rm -rf data .airflow dbt_project/target dbt_project/logs .pytest_cache
