"""The Parquet lake Spark reads: the loaded landing data, its audit trail and the Python marts.

On ``warehouse.engine: spark`` the extract still loads and quarantines every landing line with
DuckDB (one day of one source is small; the loader's accounting is the same on both engines),
and then writes what it loaded as Parquet, partitioned the way Spark discovers partitions::

    <lake>/raw/crm__orders/_dt=2025-03-01/data.parquet
    <lake>/audit/quarantine/dt=2025-03-01/crm__orders.parquet
    <lake>/audit/load_counts/dt=2025-03-01/crm__orders.parquet
    <lake>/marts/mart_customer_ltv/data.parquet                 (the Python marts, marts/)
    <lake>/marts/mart_ltv_model_checks/as_of_date=2025-03-02/data.parquet

Each extract step rewrites only its own files: the days it loaded of its raw table, and its
entity's file in each of those days' audit folders. A file is written under a temporary
name and renamed onto its place, never appended to. dbt registers every folder as a Spark
table over these files (the ``register_lake`` operation in ``dbt_project/macros/spark.sql``),
so the staging models read ``raw.crm__orders`` on Spark exactly as they read the DuckDB table
of the same name.

JSON columns become text and timestamps are written as UTC instants, the types Spark reads
without conversion.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

# (schema, table, partition column) of every table the lake holds; raw tables are added per entity.
AUDIT_TABLES = (("audit", "load_counts", "dt"), ("audit", "quarantine", "dt"))
# A lake table's columns, beside its files (Spark skips names starting with "_")
COLUMNS_FILE = "_columns.json"

_SPARK_TYPES = {
    "VARCHAR": "string",
    "JSON": "string",
    "DATE": "date",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_NS": "timestamp",  # a pandas frame's datetime64 (the Python marts)
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "BOOLEAN": "boolean",
    "DOUBLE": "double",
}
# How DuckDB reads a Spark type back (a timestamp is a UTC instant)
_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "date": "DATE",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "timestamp": "TIMESTAMPTZ",
    "boolean": "BOOLEAN",
    "double": "DOUBLE",
}


@dataclass(frozen=True)
class LakeTable:
    """One table of the lake: where its files are and the Spark columns they hold."""

    schema: str
    name: str
    partition_column: str | None  # None: one file for the whole table
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
    """The lake's landing tables, their columns read from the DuckDB tables they copy."""
    wanted = [("raw", name, "_dt") for name in raw_tables] + list(AUDIT_TABLES)
    return [describe(con, schema, name, lake / schema / name, partition) for schema, name, partition in wanted]


def describe(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    location: Path,
    partition_column: str | None = None,
    source: str | None = None,
) -> LakeTable:
    """The lake table ``schema.name`` copying the DuckDB relation ``source`` (default: the
    relation of the same name) the connection sees."""
    relation = source or f'"{schema}"."{name}"'
    described = con.execute(f"describe {relation}").fetchall()
    if not described:
        raise LookupError(f"{schema}.{name} is not in the warehouse: load the landing zone first")
    columns = [(c, _spark_type(t)) for c, t, *_ in described if c != partition_column]
    if partition_column:
        columns.append((partition_column, "date"))
    return LakeTable(schema, name, partition_column, tuple(columns), location)


def _spark_type(duckdb_type: str) -> str:
    if duckdb_type.upper().startswith("DECIMAL("):
        return duckdb_type.lower()
    if duckdb_type.upper() not in _SPARK_TYPES:
        raise ValueError(f"no Spark type for the DuckDB type {duckdb_type}")
    return _SPARK_TYPES[duckdb_type.upper()]


def export_days(
    con: duckdb.DuckDBPyConnection,
    table: LakeTable,
    days: Iterable[date],
    source: str | None = None,
    only: str = "true",
    file_name: str = "data.parquet",
) -> int:
    """Rewrite ``file_name`` in the day folders of ``days`` from the rows of ``source`` (default:
    the DuckDB table of the same name) that match ``only``; returns the rows written.

    A day without such rows loses its file (and its folder, once empty), so the lake never
    keeps rows the warehouse dropped.
    """
    written = 0
    source = source or f'"{table.schema}"."{table.name}"'
    for day in sorted(set(days)):
        folder = table.location / f"{table.partition_column}={day.isoformat()}"
        where = f"{table.partition_column} = cast('{day.isoformat()}' as date) and ({only})"
        written += _replace_file(con, table, source, where, folder / file_name)
    return written


def export_table(con: duckdb.DuckDBPyConnection, table: LakeTable, source: str) -> int:
    """Rewrite the one file of an unpartitioned lake table from ``source``; returns its rows."""
    return _replace_file(con, table, source, "true", table.location / "data.parquet", keep_empty=True)


def _replace_file(
    con: duckdb.DuckDBPyConnection, table: LakeTable, source: str, where: str, path: Path, keep_empty: bool = False
) -> int:
    """Put the rows of ``source`` matching ``where`` in ``path``: written under a temporary name,
    then renamed onto it. No rows: the file and its empty folder are removed, unless ``keep_empty``
    (a table Spark must still find, with its columns)."""
    (rows,) = con.execute(f"select count(*) from {source} where {where}").fetchone()
    table.location.mkdir(parents=True, exist_ok=True)
    (table.location / COLUMNS_FILE).write_text(json.dumps(table.columns))
    if rows or keep_empty:
        select = ", ".join(_exported(name, kind) for name, kind in table.columns if name != table.partition_column)
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.writing")
        con.execute(
            f"copy (select {select} from {source} where {where}) to '{staged}' (format parquet, compression zstd)"
        )
        os.replace(staged, path)
    else:
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
    return rows


def empty_select(location: Path) -> str | None:
    """A query with the columns and no row of the lake table at ``location`` (one whose every
    day was emptied has no Parquet file to read its columns from), or None when unknown."""
    described = location / COLUMNS_FILE
    if not described.is_file():
        return None
    columns = [
        f'cast(null as {_DUCKDB_TYPES.get(kind, kind.upper())}) as "{name}"'
        for name, kind in json.loads(described.read_text())
    ]
    return f"select {', '.join(columns)} where false"


def _exported(name: str, spark_type: str) -> str:
    quoted = f'"{name}"'
    if spark_type == "timestamp":  # a UTC instant (Parquet isAdjustedToUTC), Spark's timestamp
        return f"timezone('UTC', {quoted}) as {quoted}"
    if spark_type == "string":
        return f"cast({quoted} as varchar) as {quoted}"
    return quoted


def days_in(con: duckdb.DuckDBPyConnection, table: LakeTable, only: str = "true") -> list[date]:
    """Every day the DuckDB table holds (for a first or full export)."""
    rows = con.execute(
        f'select distinct {table.partition_column} from "{table.schema}"."{table.name}" where {only} order by 1'
    ).fetchall()
    return [d for (d,) in rows]


def export_entity(
    con: duckdb.DuckDBPyConnection, lake: Path, entity_key: str, days: Iterable[date] | None = None
) -> list[LakeTable]:
    """Write one landing entity's loaded rows and audit trail of ``days`` (None: every day it
    holds) to the lake: its raw table's day folders and its own file in each day's audit
    folders, so the entities of one day never write the same file."""
    source, name = entity_key.split("__", 1)
    tables = lake_tables(con, lake, [entity_key])
    days = None if days is None else sorted(set(days))
    for table in tables:
        if table.schema == "raw":
            export_days(con, table, days_in(con, table) if days is None else days)
        else:
            mine = f"source = '{source}' and entity = '{name}'"
            export_days(
                con,
                table,
                days_in(con, table, mine) if days is None else days,
                only=mine,
                file_name=f"{entity_key}.parquet",
            )
    return tables


def export_warehouse(warehouse: Path, lake: Path, days: Iterable[date] | None = None) -> list[LakeTable]:
    """Write the loaded landing data and the audit trail of ``warehouse`` to ``lake``: the
    files of ``days``, or of every day the warehouse holds (a first or full export)."""
    from dagster_project.lib.landing import ENTITIES

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for e in ENTITIES:
            export_entity(con, lake, e.key, days)
        return lake_tables(con, lake, [e.key for e in ENTITIES])
    finally:
        con.close()


def register_args(tables: Iterable[LakeTable]) -> str:
    """The ``--args`` of ``dbt run-operation register_lake`` for ``tables``."""
    return json.dumps({"tables": [t.as_var() for t in tables]})
