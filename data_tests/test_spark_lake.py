"""The Spark engine's plumbing that needs no Spark: the lake the extract writes, the DuckDB
views the Python steps read Spark's tables through, and the command line's checks.
(The engine itself, end to end: test_pipeline_e2e.py::test_spark_engine_publishes_the_same_marts.)"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import run_journey

from dagster_project.lib import lake, spark
from dagster_project.lib.config import parse_config

D1, D2 = date(2025, 3, 1), date(2025, 3, 2)


@pytest.fixture
def loaded() -> duckdb.DuckDBPyConnection:
    """A warehouse holding what the loader writes for two entities over two days."""
    con = duckdb.connect()
    con.execute("create schema raw; create schema audit")
    for entity in ("crm__orders", "calls__calls"):
        con.execute(
            f"create table raw.{entity} (record_id varchar, record json, _dt date, _file_path varchar, "
            "_line_number bigint, _loaded_at timestamp)"
        )
    con.execute(
        "insert into raw.crm__orders values ('o1', '{\"a\": 1}', '2025-03-01', 'f', 1, '2025-03-01 10:00'), "
        "('o2', '{}', '2025-03-02', 'f', 1, '2025-03-02 10:00')"
    )
    con.execute("insert into raw.calls__calls values ('c1', '{}', '2025-03-01', 'f', 1, '2025-03-01 10:00')")
    con.execute(
        "create table audit.load_counts (source varchar, entity varchar, dt date, files integer, "
        "lines_read bigint, rows_loaded bigint, rows_quarantined bigint, loaded_at timestamp)"
    )
    con.execute(
        "insert into audit.load_counts values ('crm', 'orders', '2025-03-01', 1, 1, 1, 0, '2025-03-01'), "
        "('crm', 'orders', '2025-03-02', 1, 1, 1, 0, '2025-03-02'), "
        "('calls', 'calls', '2025-03-01', 1, 1, 1, 0, '2025-03-01')"
    )
    con.execute(
        "create table audit.quarantine (source varchar, entity varchar, dt date, file_path varchar, "
        "line_number bigint, raw_line varchar, reason varchar, reason_code varchar, quarantined_at timestamp)"
    )
    con.execute(
        "insert into audit.quarantine values ('calls', 'calls', '2025-03-01', 'f', 2, 'x', 'r', 'bad_json', now())"
    )
    yield con
    con.close()


def _read(con: duckdb.DuckDBPyConnection, folder: Path) -> list[tuple]:
    files = f"{folder}/**/*.parquet"
    return con.execute(
        f"select * exclude (loaded_at) from read_parquet('{files}', hive_partitioning = true) order by all"
    ).fetchall()


def test_each_entity_writes_its_own_files_per_day(loaded: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lake.export_entity(loaded, tmp_path, "crm__orders", [D1, D2])
    lake.export_entity(loaded, tmp_path, "calls__calls", [D1, D2])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet")) == [
        "audit/load_counts/dt=2025-03-01/calls__calls.parquet",
        "audit/load_counts/dt=2025-03-01/crm__orders.parquet",
        "audit/load_counts/dt=2025-03-02/crm__orders.parquet",
        "audit/quarantine/dt=2025-03-01/calls__calls.parquet",
        "raw/calls__calls/_dt=2025-03-01/data.parquet",
        "raw/crm__orders/_dt=2025-03-01/data.parquet",
        "raw/crm__orders/_dt=2025-03-02/data.parquet",
    ]
    counts = _read(loaded, tmp_path / "audit" / "load_counts")
    assert [(r[0], r[1], str(r[-1])) for r in counts] == [
        ("calls", "calls", "2025-03-01"),
        ("crm", "orders", "2025-03-01"),
        ("crm", "orders", "2025-03-02"),
    ]
    # the JSON record is text, the load time a UTC instant: the types Spark reads
    kinds = {c[0]: c[1] for c in loaded.execute(f"describe from '{tmp_path}/raw/crm__orders/*/*.parquet'").fetchall()}
    assert kinds["record"] == "VARCHAR" and kinds["_loaded_at"] == "TIMESTAMP WITH TIME ZONE"


def test_a_reloaded_day_replaces_the_entitys_files_only(loaded: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    lake.export_entity(loaded, tmp_path, "crm__orders", [D1, D2])
    lake.export_entity(loaded, tmp_path, "calls__calls", [D1])
    loaded.execute("delete from raw.crm__orders where _dt = '2025-03-02'")
    loaded.execute("update audit.load_counts set rows_loaded = 0 where entity = 'orders' and dt = '2025-03-02'")
    lake.export_entity(loaded, tmp_path, "crm__orders", [D2])
    assert not (tmp_path / "raw" / "crm__orders" / "_dt=2025-03-02").exists()  # the day holds no row any more
    assert (tmp_path / "raw" / "crm__orders" / "_dt=2025-03-01" / "data.parquet").exists()
    counts = {(r[0], str(r[-1])): r[4] for r in _read(loaded, tmp_path / "audit" / "load_counts")}
    assert counts == {("calls", "2025-03-01"): 1, ("crm", "2025-03-01"): 1, ("crm", "2025-03-02"): 0}
    assert not list(tmp_path.rglob(".*"))  # no temporary file left


def test_register_args_name_every_folder_with_spark_types(loaded: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    tables = {
        t["name"]: t
        for t in json.loads(lake.register_args(lake.lake_tables(loaded, tmp_path, ["crm__orders"])))["tables"]
    }
    assert set(tables) == {"crm__orders", "load_counts", "quarantine"}
    orders = tables["crm__orders"]
    assert orders["partition_column"] == "_dt" and orders["location"] == str(tmp_path / "raw" / "crm__orders")
    assert orders["columns"][-1] == ["_dt", "date"]  # the partition column last
    assert ["record", "string"] in orders["columns"] and ["_loaded_at", "timestamp"] in orders["columns"]


def _spark_table(home: Path, schema: str, table: str, sql: str, partition: str | None = None) -> None:
    """Write a table the way Spark lays it out (its partition column in the folder names)."""
    folder = home / "tables" / f"{schema}.db" / table
    folder.mkdir(parents=True)
    con = duckdb.connect()
    if partition:
        con.execute(f"copy ({sql}) to '{folder}' (format parquet, partition_by ({partition}))")
    else:
        con.execute(f"copy ({sql}) to '{folder / 'part-00000.parquet'}' (format parquet)")
    con.close()


def test_attach_reads_spark_tables_in_the_declared_column_order(tmp_path: Path) -> None:
    home = tmp_path / "spark"
    _spark_table(home, "marts", "mart_a", "select 1 as n, 'x' as s")
    _spark_table(home, "marts", "fct_b", "select date '2025-03-01' as d, 7 as v, 'k' as key", partition="d")
    _spark_table(home, "marts", "fct_empty", "select 1 as x, 2 as y where false", partition="x")  # no file at all
    _spark_table(
        home,
        "journey_meta",
        "partitioned_columns",
        "select * from (values ('marts', 'fct_b', 1, 'v', 'int'), ('marts', 'fct_b', 2, 'key', 'string'), "
        "('marts', 'fct_b', 3, 'd', 'date'), ('marts', 'fct_empty', 1, 'amount', 'decimal(18,2)'), "
        "('marts', 'fct_empty', 2, 'day', 'date')) as t(schema_name, table_name, position, column_name, data_type)",
    )
    declared = {("marts", "fct_b"): ["d", "v", "key"], ("marts", "fct_empty"): ["day", "amount"]}
    con = duckdb.connect()
    assert spark.LocalSpark(home).attach(con, ("marts",), declared) == []
    assert con.execute("select * from marts.mart_a").fetchall() == [(1, "x")]
    assert [c[0] for c in con.execute("describe marts.fct_b").fetchall()] == ["d", "v", "key"]
    assert con.execute("select * from marts.fct_b").fetchall() == [(date(2025, 3, 1), 7, "k")]
    assert con.execute("describe marts.fct_empty").fetchall()[0][:2] == ("day", "DATE")
    assert con.execute("describe marts.fct_empty").fetchall()[1][:2] == ("amount", "DECIMAL(18,2)")
    assert con.execute("select count(*) from marts.fct_empty").fetchone() == (0,)


def test_attach_gives_an_emptied_lake_table_its_columns(tmp_path: Path) -> None:
    home = tmp_path / "spark"
    con = duckdb.connect()
    con.execute("create table rows as select date '2025-03-01' as as_of_date, 1.5 as error")
    table = lake.describe(con, "marts", "checks", home / "lake" / "marts" / "checks", "as_of_date", source="rows")
    lake.export_days(con, table, [D1], source="rows")
    con.execute("delete from rows")
    lake.export_days(con, table, [D1], source="rows")  # the only day emptied: no Parquet file left
    assert not list((home / "lake").rglob("*.parquet"))
    assert spark.LocalSpark(home).attach(con, ("marts",), {}) == []
    assert [c[:2] for c in con.execute("describe marts.checks").fetchall()] == [
        ("error", "DECIMAL(2,1)"),
        ("as_of_date", "DATE"),
    ]


def test_engine_setting_and_spark_home() -> None:
    config = parse_config({"warehouse": {"engine": "spark", "spark": {"driver_memory": "2g"}}})
    assert config.warehouse.engine == "spark"
    home = config.warehouse.spark.home_for(Path("/data/journey.duckdb"))
    assert home == Path("/data/journey.duckdb.spark")
    local = spark.LocalSpark(home, driver_memory=config.warehouse.spark.driver_memory)
    assert local.environment()["JOURNEY_SPARK_DRIVER_MEMORY"] == "2g"
    assert parse_config({}).warehouse.engine == "duckdb"


def test_engine_spark_without_its_dbt_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    missing = tmp_path / "no-such-dbt"
    env = {**os.environ, spark.DBT_ENV: str(missing)}
    result = run_journey("run", "--landing", str(tmp_path / "landing"), "--engine", "spark", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("journey run: error: the spark engine cannot start: ")
