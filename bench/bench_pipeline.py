"""Benchmark the whole pipeline: `journey run` on a generated landing zone, then one more day.

Measures (1) a full run over N customers x D days and (2) the incremental cost of the next
day: the landing zone is generated for D + 1 days, the full run stops at `--as-of` day D,
then `journey backfill` loads day D + 1 alone and rebuilds downstream. Prints wall time,
the extract / build split the runner reports, and peak RSS of the journey processes.
Speed targets live here, never in tests.

    python bench/bench_pipeline.py --customers 100000 --days 90 [--keep DIR]
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path


def _journey(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "dagster_project.cli", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"journey {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def _phases(report: str) -> str:
    match = re.search(r"^Time: (.*)$", report, re.MULTILINE)
    return match.group(1) if match else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--start-date", default="2025-01-01")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="journey-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    landing, warehouse = work / "landing", work / "warehouse.duckdb"
    last_full = (date.fromisoformat(args.start_date) + timedelta(days=args.days - 1)).isoformat()
    next_day = (date.fromisoformat(last_full) + timedelta(days=1)).isoformat()

    if not landing.exists():
        seconds, out = _journey("generate", "--out", str(landing), "--customers", str(args.customers),
                                "--days", str(args.days + 1), "--start-date", args.start_date, "--no-progress")
        print(f"generate {args.customers:,} x {args.days + 1} days: {seconds:.1f} s  {out.strip().splitlines()[-1]}")
    warehouse.unlink(missing_ok=True)
    full, report = _journey("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", last_full)
    print(f"full run to {last_full}: {full:.1f} s ({_phases(report)})")
    one, report = _journey("backfill", "--start", next_day, "--end", next_day, "--landing", str(landing),
                           "--warehouse", str(warehouse))
    print(f"one new day {next_day}: {one:.1f} s ({_phases(report)}), {100 * one / full:.1f} % of the full run")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size_mb = warehouse.stat().st_size / 1e6
    print(f"peak RSS of the largest journey process: {peak_mb:,.0f} MB; warehouse {size_mb:,.0f} MB")
    print(report)


if __name__ == "__main__":
    main()
