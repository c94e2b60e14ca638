"""The Parquet lake Spark reads: the loaded landing data and its audit trail, one folder per table.

On ``warehouse.engine: spark`` the extract still loads and quarantines every landing line with
DuckDB (one day of one source is small; the loader's accounting is the same on both engines),
and then writes what it loaded as Parquet, partitioned the way Spark discovers partitions::

    <lake>/raw/crm__orders/_dt=2025-03-01/data.parquet
    <lake>/audit/quarantine/dt=2025-03-01/data.parquet
    <lake>/audit/load_counts/dt=2025-03-01/data.parquet

Only the days a run loaded are rewritten, each in its own folder (a day's files are replaced,
never appended to). dbt registers every folder as a Spark table over these files (the
``register_lake`` operation in ``dbt_project/macros/spark.sql``), so the staging models read
``raw.crm__orders`` on Spark exactly as they read the DuckDB table of the same name.

JSON columns become text and timestamps are written as UTC instants, the types Spark reads
without conversion.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

# (schema, table, partition column) of every table the lake holds; raw tables are added per entity.
AUDIT_TABLES = (("audit", "load_counts", "dt"), ("audit", "quarantine", "dt"))

_SPARK_TYPES = {
    "VARCHAR": "string",
    "JSON": "string",
    "DATE": "date",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "BOOLEAN": "boolean",
    "DOUBLE": "double",
}


@dataclass(frozen=True)
class LakeTable:
    """One table of the lake: where its files are and the Spark columns they hold."""

    schema: str
    name: str
    partition_column: str
    columns: tuple[tuple[str, str], ...]  # (name, Spark type), the partition column last
    location: Path

    def as_var(self) -> dict[str, object]:
        """The form the dbt operation ``register_lake`` takes."""
        return {
            "schema": self.schema,
            "name": self.name,
            "partition_column": self.partition_column,
            "columns": [list(c) for c in self.columns],
            "location": str(self.location),
        }


def lake_tables(con: duckdb.DuckDBPyConnection, lake: Path, raw_tables: Iterable[str]) -> list[LakeTable]:
    """The lake's tables, their columns read from the DuckDB tables they copy."""
    wanted = [("raw", name, "_dt") for name in raw_tables] + list(AUDIT_TABLES)
    tables = []
    for schema, name, partition in wanted:
        described = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, name],
        ).fetchall()
        if not described:
            raise LookupError(f"{schema}.{name} is not in the warehouse: load the landing zone first")
        columns = [(c, _spark_type(t)) for c, t in described if c != partition]
        tables.append(LakeTable(schema, name, partition, (*columns, (partition, "date")), lake / schema / name))
    return tables


def _spark_type(duckdb_type: str) -> str:
    if duckdb_type.upper() not in _SPARK_TYPES:
        raise ValueError(f"no Spark type for the DuckDB type {duckdb_type}")
    return _SPARK_TYPES[duckdb_type.upper()]


def export_days(con: duckdb.DuckDBPyConnection, table: LakeTable, days: Iterable[date]) -> int:
    """Rewrite the lake folders of ``days`` from the DuckDB table; returns the rows written.

    A day the table no longer holds loses its folder, so the lake never keeps a day the
    warehouse dropped.
    """
    written = 0
    source = f'"{table.schema}"."{table.name}"'
    select = ", ".join(_exported(name, kind) for name, kind in table.columns if name != table.partition_column)
    for day in sorted(set(days)):
        folder = table.location / f"{table.partition_column}={day.isoformat()}"
        staged = folder.with_name(folder.name + ".writing")
        shutil.rmtree(staged, ignore_errors=True)
        (rows,) = con.execute(f"select count(*) from {source} where {table.partition_column} = ?", [day]).fetchone()
        if rows:
            staged.mkdir(parents=True)
            con.execute(
                f"copy (select {select} from {source} where {table.partition_column} = ?) "
                f"to '{staged / 'data.parquet'}' (format parquet, compression zstd)",
                [day],
            )
        shutil.rmtree(folder, ignore_errors=True)
        if rows:
            staged.rename(folder)
        written += rows
    return written


def _exported(name: str, spark_type: str) -> str:
    quoted = f'"{name}"'
    if spark_type == "timestamp":  # a UTC instant (Parquet isAdjustedToUTC), Spark's timestamp
        return f"timezone('UTC', {quoted}) as {quoted}"
    if spark_type == "string":
        return f"cast({quoted} as varchar) as {quoted}"
    return quoted


def days_in(con: duckdb.DuckDBPyConnection, table: LakeTable) -> list[date]:
    """Every day the DuckDB table holds (for a first or full export)."""
    rows = con.execute(
        f'select distinct {table.partition_column} from "{table.schema}"."{table.name}" order by 1'
    ).fetchall()
    return [d for (d,) in rows]


def export_warehouse(warehouse: Path, lake: Path, days: Iterable[date] | None = None) -> list[LakeTable]:
    """Write the loaded landing data and the audit trail of ``warehouse`` to ``lake``: the
    folders of ``days``, or every day the warehouse holds (a first or full export)."""
    from dagster_project.lib.landing import ENTITIES

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = lake_tables(con, lake, [e.key for e in ENTITIES])
        for table in tables:
            export_days(con, table, days_in(con, table) if days is None else days)
    finally:
        con.close()
    return tables


def register_args(tables: Iterable[LakeTable]) -> str:
    """The ``--args`` of ``dbt run-operation register_lake`` for ``tables``."""
    return json.dumps({"tables": [t.as_var() for t in tables]})


# The Spark session dbt starts (profiles.yml, output `spark`) reads these.
SPARK_ENV = {
    "home": "JOURNEY_SPARK_HOME",
    "master": "JOURNEY_SPARK_MASTER",
    "driver_memory": "JOURNEY_SPARK_DRIVER_MEMORY",
    "shuffle_partitions": "JOURNEY_SPARK_SHUFFLE_PARTITIONS",
}
