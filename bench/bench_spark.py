"""Benchmark the dbt build on Spark (local mode) against DuckDB, on the same loaded landing zone.

Starts from a warehouse a `journey run` loaded (e.g. `bench_pipeline.py --keep DIR` leaves
DIR/warehouse.full.duckdb), so both engines build from the same raw and audit rows. In one
run, one after the other:

1. DuckDB: a copy of the warehouse, `dbt build --full-refresh` of every model and data test
   (the dbt step of a full `journey run`, without Dagster around it);
2. Spark: the loaded rows exported to a Parquet lake (lib/lake.py) and registered as Spark
   tables, then the same `dbt build` on the profile's `spark` output (Spark inside the dbt
   process, local mode), with the `.venv-spark` dbt (make setup-spark).

Prints each step's wall time, Spark's cost as a multiple of DuckDB's, and whether every dbt
mart agrees between the two (row count and per-column sums, as the equality test checks).
Speed targets live here, never in tests.

    python bench/bench_spark.py --warehouse DIR/warehouse.full.duckdb [--work DIR] [--driver-memory 6g]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from dagster_project.lib import lake, spark
from dagster_project.lib.config import load_config
from dagster_project.lib.settings import DBT_PROJECT_DIR

PYTHON_MARTS = {"mart_customer_ltv", "mart_ltv_model_checks"}  # Python assets, not dbt models


def _last_loaded_day(warehouse: Path) -> date:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select max(cast(dt as date)) from audit.load_counts").fetchone()[0]
    finally:
        con.close()


def _duckdb_build(warehouse: Path, work: Path, dbt_vars: dict) -> subprocess.CompletedProcess[str]:
    dbt = str(Path(sys.executable).parent / "dbt")
    command = [dbt, "build", "--full-refresh", "--exclude-resource-type", "unit_test"]
    command += ["--vars", json.dumps({**dbt_vars, "warehouse_path": str(warehouse)})]
    command += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target", "local"]
    command += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    env = {**os.environ, "DO_NOT_TRACK": "1"}
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, env=env, check=False)


def _compare(warehouse: Path, local: spark.LocalSpark) -> tuple[list[str], list[str]]:
    """(marts equal on both engines, marts that differ)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        listed = con.execute("select table_name from information_schema.tables where table_schema = 'marts'")
        equal, different = [], []
        for (mart,) in sorted(listed.fetchall()):
            if mart in PYTHON_MARTS:
                continue
            files = local.table_files("marts", mart)
            duck = spark.mart_summary(con, f"marts.{mart}")
            if files:
                paths = ", ".join(f"'{f}'" for f in files)
                on_spark = spark.mart_summary(con, f"read_parquet([{paths}], hive_partitioning = true)")
            else:
                on_spark = {"rows": 0}
            (equal if on_spark == duck or (not files and duck["rows"] == 0) else different).append(mart)
        return equal, different
    finally:
        con.close()


def _timed(label: str, step, *args):
    start = time.monotonic()
    result = step(*args)
    seconds = time.monotonic() - start
    print(f"{label:<34} {seconds:8.1f} s", flush=True)
    if isinstance(result, subprocess.CompletedProcess) and result.returncode != 0:
        sys.exit(f"{label} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, required=True, help="a warehouse `journey run` loaded")
    parser.add_argument("--work", type=Path, help="work in this folder and keep it (default: a temp folder)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--shuffle-partitions", type=int, default=4)
    args = parser.parse_args()
    reason = spark.unavailable()
    if reason:
        sys.exit(f"bench_spark: {reason}")
    if not args.warehouse.exists():
        sys.exit(f"bench_spark: no warehouse at {args.warehouse}")
    work = args.work or Path(tempfile.mkdtemp(prefix="journey-bench-spark-"))
    work.mkdir(parents=True, exist_ok=True)
    as_of = _last_loaded_day(args.warehouse)
    dbt_vars = load_config().dbt_vars(as_of)
    print(f"warehouse {args.warehouse} (loaded to {as_of}), work {work}")

    copy = work / "duckdb" / "warehouse.duckdb"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.warehouse, copy)
    duck = _timed("duckdb: dbt build --full-refresh", _duckdb_build, copy, work / "duckdb", dbt_vars)

    local = spark.LocalSpark(
        work / "spark", master=args.master, driver_memory=args.driver_memory, shuffle_partitions=args.shuffle_partitions
    )
    if local.home.exists():
        shutil.rmtree(local.home)
    tables: list[lake.LakeTable] = []
    export = _timed(
        "spark: export the lake (DuckDB)",
        lambda: tables.extend(lake.export_warehouse(args.warehouse, local.home / "lake")),
    )
    register = _timed(
        "spark: register the lake", local.dbt, "run-operation", "register_lake", "--args", lake.register_args(tables)
    )
    build = _timed(
        "spark: dbt build",
        local.dbt,
        "build",
        "--vars",
        json.dumps(dbt_vars),
        "--exclude-resource-type",
        "unit_test",
    )
    total = export + register + build
    print(f"Spark, all steps: {total:.1f} s = {total / duck:.1f} x DuckDB's build ({duck:.1f} s)")
    equal, different = _compare(copy, local)
    print(f"marts equal on both engines: {len(equal)}; different: {', '.join(different) or 'none'}")


if __name__ == "__main__":
    main()
