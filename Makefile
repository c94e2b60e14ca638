# journey: two commands on a fresh machine.
#   make run   set up, generate a demo landing zone if none, build everything, print a summary
#   make test  set up and run the whole test suite
# The virtualenv is rebuilt only when pyproject.toml or constraints.txt change.

PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
MANIFEST    := dbt_project/target/manifest.json
LANDING     ?= data/landing
WAREHOUSE   ?= warehouse/journey.duckdb
CUSTOMERS   ?= 2000
DAYS        ?= 60

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export DO_NOT_TRACK := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup run test lint ui bench clean demo

setup: $(STAMP) $(MANIFEST)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "journey needs Python 3.11, found " + sys.version'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip<27"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

$(MANIFEST): $(STAMP) $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .
	touch $(MANIFEST)

$(LANDING):
	$(BIN)/journey generate --out $(LANDING) --customers $(CUSTOMERS) --days $(DAYS)

demo: setup $(LANDING)

run: demo
	$(BIN)/journey run --landing $(LANDING) --warehouse $(WAREHOUSE)

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check dagster_project data_tests bench
	cd dbt_project && ../$(BIN)/sqlfluff lint models --dialect duckdb

ui: setup
	$(BIN)/journey ui

bench: setup
	$(BIN)/python bench/bench_generator.py --customers 100000 --days 90

clean:
	rm -rf $(VENV) dbt_project/target dbt_project/logs warehouse .pytest_cache
