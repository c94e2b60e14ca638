"""Spark for the equality test (test_pipeline_e2e.py): whether it can start here, the small
local-mode settings CI runs it with, dbt on Spark, and the nodes that failed there."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from dagster_project.lib import spark

SPARK = dict(master="local[2]", driver_memory="2g", shuffle_partitions=2)  # CI: 2 cores, little memory


def java_missing() -> str | None:
    """Why Spark cannot start here, or None."""
    return spark.unavailable()


def spark_dbt(home: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess[str]:
    """Run dbt on the profile's `spark` output, its metastore and tables under ``home``."""
    return spark.LocalSpark(home, **SPARK).dbt(*args, timeout=timeout)


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


summary = spark.mart_summary
