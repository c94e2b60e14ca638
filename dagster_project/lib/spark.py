"""Running the dbt project on Spark: which dbt has dbt-spark, and the settings it starts Spark with.

The Spark extra (``pip install -e '.[spark]'``) lives in a virtualenv of its own
(``make setup-spark`` puts it in ``.venv-spark``): with pyspark importable, Great
Expectations misbehaves in the pipeline's venv (docs/spark.md). So the pipeline's
process never imports pyspark; it runs that venv's ``dbt``, whose ``session`` connection
starts Spark inside the dbt process with the profile's ``spark`` output
(``dbt_project/profiles.yml``), configured by the ``JOURNEY_SPARK_*`` variables below.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT

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

    def table_files(self, schema: str, table: str) -> list[Path]:
        """The Parquet files of a table Spark wrote (its warehouse folder, ``spark.sql.warehouse.dir``)."""
        return sorted((self.home / "tables" / f"{schema}.db" / table).rglob("*.parquet"))


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
