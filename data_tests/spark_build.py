"""Build the dbt project on Spark (local mode) from a DuckDB warehouse's loaded data, and
summarise a mart the same way on both engines, for the equality test.

The landing data is loaded once, by the DuckDB loader; its raw and audit tables go to a
Parquet lake (dagster_project/lib/lake.py), dbt registers the lake as Spark tables
(macros/spark.sql: register_lake) and builds every model and data test there with the
same vars. Spark's tables are Parquet files under ``<home>/tables/<schema>.db/<table>``,
which DuckDB reads back for the comparison (no second JVM).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.lib import lake
from dagster_project.lib.settings import DBT_PROJECT_DIR


def java_missing() -> str | None:
    """Why Spark cannot start here, or None."""
    if shutil.which("java") is None:
        return "no java on PATH (Spark needs Java 17: Debian's openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    return None


def spark_dbt(home: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    """Run dbt on the profile's `spark` output, its metastore and tables under ``home``."""
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "JOURNEY_SPARK_HOME": str(home),
        "JOURNEY_SPARK_MASTER": "local[2]",
        "JOURNEY_SPARK_DRIVER_MEMORY": "2g",
        "JOURNEY_SPARK_SHUFFLE_PARTITIONS": "2",
    }
    dbt = str(Path(sys.executable).parent / "dbt")
    command = [dbt, *args, "--profiles-dir", str(DBT_PROJECT_DIR), "--target", "spark"]
    command += ["--target-path", str(home / "target"), "--log-path", str(home / "logs")]
    return subprocess.run(
        command, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def build_on_spark(
    warehouse: Path, home: Path, dbt_vars: dict[str, Any]
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Export ``warehouse``'s loaded data to ``home``/lake and register it; build every model
    and data test with ``dbt_vars``, then run the dbt unit tests (they need the built tables:
    an incremental test's `this` fixture takes the table's columns). Stops at the first step
    that fails."""
    tables = lake.export_warehouse(warehouse, home / "lake")
    commands = {
        "register": ["run-operation", "register_lake", "--args", lake.register_args(tables)],
        "build": ["build", "--vars", json.dumps(dbt_vars), "--exclude-resource-type", "unit_test"],
        "unit tests": ["test", "--vars", json.dumps(dbt_vars), "--select", "test_type:unit"],
    }
    steps = {}
    for name, args in commands.items():
        steps[name] = spark_dbt(home, *args)
        if steps[name].returncode != 0:
            break
    return steps


def failures(home: Path) -> str:
    """The nodes that failed in the last dbt command, with dbt's message (its console output
    is mostly Spark's warnings)."""
    results = home / "target" / "run_results.json"
    if not results.exists():
        return "no run_results.json"
    lines = []
    for result in json.loads(results.read_text())["results"]:
        if result["status"] in ("error", "fail"):
            lines.append(f"{result['unique_id']}: {' '.join((result.get('message') or '').split())[:800]}")
    return "\n".join(lines)


def spark_table_files(home: Path, schema: str, table: str) -> list[Path]:
    return sorted((home / "tables" / f"{schema}.db" / table).rglob("*.parquet"))


def summary(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, Any]:
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
