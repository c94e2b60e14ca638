"""Running the dbt project on Spark: which dbt has dbt-spark, and the settings it starts Spark with.

The Spark extra (``pip install -e '.[spark]'``) lives in a virtualenv of its own
(``make setup-spark`` puts it in ``.venv-spark``): with pyspark importable, Great
Expectations misbehaves in the pipeline's venv (docs/spark.md). So the pipeline's
process never imports pyspark; it runs that venv's ``dbt``, whose ``session`` connection
starts Spark inside the dbt process with the profile's ``spark`` output
(``dbt_project/profiles.yml``), configured by the ``JOURNEY_SPARK_*`` variables below.

The pipeline's Python steps (the Python marts, the publish, the run summary) read Spark's
tables as Parquet with DuckDB: :meth:`LocalSpark.attach` names each table's files as a view
``<schema>.<table>`` of a DuckDB connection, so the same SQL runs on either engine. What they
write goes to the lake (lib/lake.py) and is registered as a Spark table
(:meth:`LocalSpark.register`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from dagster_project.lib import lake
from dagster_project.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT

if TYPE_CHECKING:
    from dagster_project.lib.config import JourneyConfig

SPARK_VENV = PROJECT_ROOT / ".venv-spark"
DBT_ENV = "JOURNEY_SPARK_DBT"  # a dbt executable with dbt-spark, when not in .venv-spark


def dbt_executable(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The dbt that has dbt-spark: $JOURNEY_SPARK_DBT, the project's .venv-spark, or this venv's."""
    if environ.get(DBT_ENV):
        return Path(environ[DBT_ENV])
    if (SPARK_VENV / "bin" / "dbt").exists():
        return SPARK_VENV / "bin" / "dbt"
    if importlib.util.find_spec("pyspark") is not None:
        return Path(sys.executable).parent / "dbt"
    return None


def unavailable(environ: Mapping[str, str] = os.environ) -> str | None:
    """Why Spark cannot start here, or None."""
    if shutil.which("java") is None:
        return "no java on PATH (Spark needs Java 17: Debian's openjdk-17-jre-headless)"
    dbt = dbt_executable(environ)
    if dbt is None or not dbt.exists():
        return f"no dbt with dbt-spark: run `make setup-spark` (installs it in {SPARK_VENV}) or set {DBT_ENV}"
    return None


@dataclass(frozen=True)
class LocalSpark:
    """Spark in local mode inside the dbt process: its metastore and tables under ``home``."""

    home: Path
    master: str = "local[2]"
    driver_memory: str = "3g"
    shuffle_partitions: int = 4

    def environment(self) -> dict[str, str]:
        """The variables the profile's `spark` output reads."""
        return {
            "JOURNEY_SPARK_HOME": str(self.home),
            "JOURNEY_SPARK_MASTER": self.master,
            "JOURNEY_SPARK_DRIVER_MEMORY": self.driver_memory,
            "JOURNEY_SPARK_SHUFFLE_PARTITIONS": str(self.shuffle_partitions),
        }

    def dbt(self, *args: str, timeout: int = 3600) -> subprocess.CompletedProcess[str]:
        """Run dbt with ``args`` on the profile's `spark` output; its target and logs under ``home``."""
        executable = dbt_executable()
        if executable is None:
            raise RuntimeError(unavailable() or "no dbt with dbt-spark")
        command = [str(executable), *args, "--profiles-dir", str(DBT_PROJECT_DIR), "--target", "spark"]
        command += ["--target-path", str(self.home / "target"), "--log-path", str(self.home / "logs")]
        env = {**os.environ, "DO_NOT_TRACK": "1", **self.environment()}
        return subprocess.run(
            command, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )

    @property
    def lake(self) -> Path:
        """The Parquet lake (lib/lake.py): the loaded landing data, the audit trail, the Python marts."""
        return self.home / "lake"

    def table_folder(self, schema: str, table: str) -> Path:
        """Where a table's files are: a Python mart's lake folder, else Spark's warehouse
        folder (``spark.sql.warehouse.dir``), where dbt's tables are."""
        in_lake = self.lake / schema / table
        return in_lake if in_lake.is_dir() else self.home / "tables" / f"{schema}.db" / table

    def table_files(self, schema: str, table: str) -> list[Path]:
        """The Parquet files of a table."""
        return sorted(self.table_folder(schema, table).rglob("*.parquet"))

    def tables(self, schema: str) -> list[str]:
        """The tables of ``schema``: dbt's and the lake's."""
        folders = [self.home / "tables" / f"{schema}.db", self.lake / schema]
        return sorted({t.name for folder in folders if folder.is_dir() for t in folder.iterdir() if t.is_dir()})

    def attach(
        self,
        con: duckdb.DuckDBPyConnection,
        schemas: tuple[str, ...] = ("intermediate", "marts"),
        declared: Mapping[tuple[str, str], list[str]] | None = None,
    ) -> list[str]:
        """Create a view ``<schema>.<table>`` in ``con`` over the files of every table of
        ``schemas``. A partitioned table (Spark puts its partition column last) gets its
        columns in the order the model declares them (``declared``, default: the dbt
        manifest's), and without a row still has its columns. Returns the tables that got
        no view because nothing says what their columns are."""
        empty = []
        recorded = self._partitioned_columns(con)
        declared = declared_columns() if declared is None else declared
        for schema in schemas:
            con.execute(f'create schema if not exists "{schema}"')
            for table in self.tables(schema):
                folder = self.table_folder(schema, table)
                if self.table_files(schema, table):
                    files = str(folder / "**" / "*.parquet").replace("'", "''")
                    select = f"select * from read_parquet('{files}', hive_partitioning = true)"
                elif (schema, table) in recorded:  # a partitioned dbt table without a row
                    select = _empty_select(recorded[(schema, table)])
                else:  # a lake table with no row left still knows its columns
                    select = lake.empty_select(folder)
                if select is None:
                    empty.append(f"{schema}.{table}")
                    continue
                if (schema, table) in recorded:  # Spark moved the partition column last
                    select = f"select {_declared_order(con, select, declared.get((schema, table), []))} from ({select})"
                con.execute(f'create or replace view "{schema}"."{table}" as {select}')
        return empty

    def _partitioned_columns(self, con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(schema, table) -> [(column, Spark type)] of dbt's partitioned tables, as the last dbt
        command on Spark recorded them (macros/spark.sql: record_partitioned_columns)."""
        files = self.table_files("journey_meta", "partitioned_columns")
        if not files:
            return {}
        recorded: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for schema, table, column, kind in con.execute(
            "select schema_name, table_name, column_name, data_type from read_parquet(?) "
            "order by schema_name, table_name, position",
            [[str(f) for f in files]],
        ).fetchall():
            recorded.setdefault((schema, table), []).append((column, kind))
        return recorded

    def register(self, tables: list[lake.LakeTable]) -> None:
        """Declare lake folders as Spark tables (dbt run-operation register_lake); raises
        RuntimeError with dbt's last output lines when that fails."""
        done = self.dbt("run-operation", "register_lake", "--args", lake.register_args(tables))
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            raise RuntimeError(f"registering {', '.join(t.name for t in tables)} on Spark failed:\n{tail}")


def declared_columns() -> dict[tuple[str, str], list[str]]:
    """(schema, table) -> the columns a dbt model's YAML lists, in their order (from the
    project's manifest; empty when it has not been parsed)."""
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not manifest.is_file():
        return {}
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"].values()
    return {(n["schema"], n["alias"]): list(n["columns"]) for n in nodes if n["resource_type"] == "model"}


def _declared_order(con: duckdb.DuckDBPyConnection, select: str, declared: list[str]) -> str:
    """The columns of ``select``, quoted, in the order the model declares them when it declares
    exactly these (the order DuckDB builds the table in), else as they are."""
    columns = [row[0] for row in con.execute(f"describe {select}").fetchall()]
    if sorted(columns) == sorted(declared):
        columns = declared
    return ", ".join(f'"{c}"' for c in columns)


_DUCKDB_TYPES = {"string": "VARCHAR", "timestamp": "TIMESTAMPTZ", "float": "REAL", "tinyint": "TINYINT"}


def _empty_select(columns: list[tuple[str, str]]) -> str:
    """A query with these columns (Spark types) and no row, for DuckDB."""
    casts = []
    for name, kind in columns:
        duck = _DUCKDB_TYPES.get(kind.lower(), "VARCHAR" if "<" in kind else kind.upper())
        casts.append(f'cast(null as {duck}) as "{name}"')
    return f"select {', '.join(casts)} where false"


def for_config(config: JourneyConfig) -> LocalSpark:
    """Spark as ``warehouse.spark`` of orchestration.yaml configures it."""
    settings = config.warehouse.spark
    return LocalSpark(
        settings.home_for(config.warehouse_path),
        settings.master,
        settings.driver_memory,
        settings.shuffle_partitions,
    )


def mart_summary(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, Any]:
    """Row count and, per column, what both engines must agree on: the sum of a number
    (rounded to the cent), the count of true values of a boolean, the count, smallest and
    largest value of anything else (timestamps as microseconds since the epoch, UTC)."""
    columns = con.execute(f"describe select * from {relation}").fetchall()
    parts = ["count(*)"]
    names = []
    for name, kind, *_ in columns:
        quoted = f'"{name}"'
        kind = kind.upper()
        if kind.startswith(("DECIMAL", "DOUBLE", "FLOAT", "INTEGER", "BIGINT", "SMALLINT", "HUGEINT", "TINYINT")):
            parts.append(f"round(sum(cast({quoted} as double)), 2)")
        elif kind == "BOOLEAN":
            parts.append(f"count(*) filter (where {quoted})")
        elif kind.startswith("TIMESTAMP"):
            parts.append(f"[count({quoted}), min(epoch_us({quoted})), max(epoch_us({quoted}))]")
        else:
            parts.append(f"[count({quoted})::varchar, min({quoted})::varchar, max({quoted})::varchar]")
        names.append(name)
    row = con.execute(f"select {', '.join(parts)} from {relation}").fetchone()
    return {"rows": row[0], "columns": dict(sorted(zip(names, row[1:], strict=True)))}
