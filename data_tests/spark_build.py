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
import subprocess
from pathlib import Path
from typing import Any

from dagster_project.lib import lake, spark

SPARK = dict(master="local[2]", driver_memory="2g", shuffle_partitions=2)  # CI: 2 cores, little memory


def java_missing() -> str | None:
    """Why Spark cannot start here, or None."""
    return spark.unavailable()


def spark_dbt(home: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    """Run dbt on the profile's `spark` output, its metastore and tables under ``home``."""
    return spark.LocalSpark(home, **SPARK).dbt(*args, timeout=timeout)


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
    return spark.LocalSpark(home).table_files(schema, table)


summary = spark.mart_summary
