"""Where the Python marts go: a table of the DuckDB warehouse, or, on ``warehouse.engine:
spark``, Parquet in the lake registered as a Spark table of the same name (lib/lake.py).

Both functions take a DuckDB connection from ``WarehouseResource.tables()`` and the name of a
relation it holds (a registered pandas frame, a temporary table) with the mart's rows.
"""

from __future__ import annotations

from datetime import date

import duckdb

from dagster_project.lib import lake
from dagster_project.lib.environment import WarehouseResource


def replace_table(warehouse: WarehouseResource, con: duckdb.DuckDBPyConnection, table: str, rows: str) -> None:
    """Replace the whole mart ``table`` (``schema.name``) with ``rows``, in the order of its first column."""
    schema, name = table.split(".")
    spark = warehouse.spark()
    ordered = f"(select * from {rows} order by 1)"
    if spark is None:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create or replace table {table} as select * from {ordered}")
        return
    lake_table = lake.describe(con, schema, name, spark.lake / schema / name, source=rows)
    lake.export_table(con, lake_table, ordered)
    spark.register([lake_table])


def replace_day(
    warehouse: WarehouseResource, con: duckdb.DuckDBPyConnection, table: str, rows: str, column: str, day: date
) -> None:
    """Replace the rows of mart ``table`` whose date ``column`` is ``day`` with ``rows`` (all of
    that day), keeping the other days; creates the table from ``rows``' columns the first time.
    On Spark the table's one file is rewritten with the other days' rows (a small table: one
    set of rows per run; unpartitioned, so its columns keep their order)."""
    schema, name = table.split(".")
    spark = warehouse.spark()
    if spark is None:
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create table if not exists {table} as select * from {rows} limit 0")
        con.execute(f"delete from {table} where {column} = ?", [day])
        con.execute(f"insert into {table} select * from {rows}")
        return
    lake_table = lake.describe(con, schema, name, spark.lake / schema / name, source=rows)
    held = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()[0]
    kept = f"select * from {table} where {column} <> '{day.isoformat()}' union all " if held else ""
    lake.export_table(con, lake_table, f"({kept}select * from {rows})")
    spark.register([lake_table])
