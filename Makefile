# journey: two commands on a fresh machine.
#   make run   set up, generate a demo landing zone if none, build everything, print a summary
#   make test  set up and run the whole test suite
#   make docs  build the dbt docs site (models, columns, lineage, metrics, exposures)
# The virtualenv is rebuilt only when pyproject.toml or constraints.txt change.

PYTHON      ?= python3
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
SPARK_VENV  := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed
MANIFEST    := dbt_project/target/manifest.json
LANDING     ?= data/landing
WAREHOUSE   ?= warehouse/journey.duckdb
CUSTOMERS   ?= 2000
DAYS        ?= 60

export DAGSTER_HOME := $(CURDIR)/.dagster_home
export DO_NOT_TRACK := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup setup-spark run test lint ui bench clean demo docs

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

# The Spark extra in a virtualenv of its own (docs/spark.md): the equality test builds the
# project on Spark with its dbt. make test installs it when Java is on PATH; without Java the
# Spark test is skipped (CI installs Java and sets JOURNEY_REQUIRE_SPARK, so there it runs).
setup-spark: $(SPARK_STAMP)

$(SPARK_STAMP): pyproject.toml constraints.txt
	test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --upgrade "pip<27"
	$(SPARK_VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[spark]'
	touch $(SPARK_STAMP)

test: setup $(if $(shell command -v java),setup-spark)
	$(BIN)/python -m pytest

# sqlfluff (.sqlfluff: dbt templater, dialect duckdb) must report no violation. dbt renders the
# models in the main process; --processes 2 lints one model in a second process while the next
# renders (about 40 % less time on two cores); more processes would only wait on the rendering.
lint: setup
	$(BIN)/ruff check dagster_project data_tests bench
	$(BIN)/ruff format --check dagster_project data_tests bench
	$(BIN)/sqlfluff lint dbt_project/models --processes 2 --disable-progress-bar

ui: setup
	$(BIN)/journey ui

# dbt docs into dbt_project/target/docs (its own folder: the pipeline's manifest in target/ is
# left alone). The catalog (column types, row counts) is read from $(WAREHOUSE) when it exists,
# else the site is built without it; run it between pipeline runs, as dbt opens the file for writing.
DOCS_DIR    := dbt_project/target/docs

docs: setup
	cd dbt_project && JOURNEY_WAREHOUSE=$(if $(wildcard $(WAREHOUSE)),$(abspath $(WAREHOUSE)),:memory:) \
		../$(BIN)/dbt docs generate --quiet --profiles-dir . --target-path target/docs --static \
		$(if $(wildcard $(WAREHOUSE)),,--empty-catalog)
	@echo "dbt docs: open $(DOCS_DIR)/static_index.html in a browser (one file, no server needed),"
	@echo "          or serve them: cd dbt_project && ../$(BIN)/dbt docs serve --target-path target/docs"

bench: setup
	$(BIN)/python bench/bench_generator.py --customers 100000 --days 90

clean:
	rm -rf $(VENV) $(SPARK_VENV) dbt_project/target dbt_project/logs warehouse .pytest_cache
