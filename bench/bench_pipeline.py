"""Benchmark the whole pipeline: `journey run` on a generated landing zone, then one more day.

Measures (1) a full run over N customers x D days and (2) the incremental cost of the next
day: the landing zone is generated for D + 1 days, the full run stops at `--as-of` day D,
then `journey backfill` loads day D + 1 alone and rebuilds downstream. Prints wall time,
the extract / build split the runner reports, dbt's time per layer (summed over the nodes
of each layer, from the run's dbt log), and peak RSS of the journey processes. Speed
targets live here, never in tests.

    python bench/bench_pipeline.py --customers 100000 --days 90 [--keep DIR] [--new-day-only]

`--new-day-only` reuses the warehouse a previous full run left in `--keep DIR` (its figures
are read back from DIR/bench.json) and measures the new day again. With `--keep`, the full
run's warehouse is also copied to DIR/warehouse.full.duckdb, and `--new-day-only` starts
from that copy, so every new-day measurement starts from the same state: day D built, day
D + 1 not yet loaded. Both copies are synced to disk before the next timed run: left to
the kernel, writing back the copy's dirty pages during the new day made it 4-16 s slower.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MODEL = re.compile(r"OK created sql \w+ model (\w+)\.(\w+) .*in ([\d.]+)s\]")
_TEST = re.compile(r"\d+ of \d+ (?:PASS|WARN|FAIL|ERROR) (\S+) .*in ([\d.]+)s\]")


def _home(work: Path) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or work / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    return home


def _journey(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "dagster_project.cli", *args], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:  # a failed run is not a benchmark figure
        sys.exit(f"journey {args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def _phases(report: str) -> str:
    match = re.search(r"^Time: (.*)$", report, re.MULTILINE)
    return match.group(1) if match else "-"


def dbt_layers(log: Path) -> dict[str, float]:
    """Seconds per dbt layer (schema of the model; `data tests`), summed over its nodes."""
    seconds: dict[str, float] = defaultdict(float)
    for line in _ANSI.sub("", log.read_text(encoding="utf-8", errors="replace")).splitlines():
        if model := _MODEL.search(line):
            seconds[model.group(1)] += float(model.group(3))
        elif test := _TEST.search(line):
            seconds["data tests"] += float(test.group(2))
    return dict(seconds)


def _layers_text(layers: dict[str, float]) -> str:
    return ", ".join(f"{name} {secs:.1f} s" for name, secs in sorted(layers.items(), key=lambda kv: -kv[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--start-date", default="2025-01-01")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    parser.add_argument("--new-day-only", action="store_true", help="reuse the full run kept in --keep")
    args = parser.parse_args()
    if args.new_day_only and not args.keep:
        parser.error("--new-day-only needs --keep DIR")
    work = args.keep or Path(tempfile.mkdtemp(prefix="journey-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = _home(work) / "logs" / "journey-last-run.log"
    landing, warehouse, results = work / "landing", work / "warehouse.duckdb", work / "bench.json"
    snapshot = work / "warehouse.full.duckdb"
    last_full = (date.fromisoformat(args.start_date) + timedelta(days=args.days - 1)).isoformat()
    next_day = (date.fromisoformat(last_full) + timedelta(days=1)).isoformat()

    if not landing.exists():
        seconds, out = _journey("generate", "--out", str(landing), "--customers", str(args.customers),
                                "--days", str(args.days + 1), "--start-date", args.start_date, "--no-progress")
        print(f"generate {args.customers:,} x {args.days + 1} days: {seconds:.1f} s  {out.strip().splitlines()[-1]}")
    if args.new_day_only:
        full = json.loads(results.read_text())["full_seconds"]
        print(f"full run to {last_full} (kept from an earlier run): {full:.1f} s")
        if snapshot.exists():
            shutil.copyfile(snapshot, warehouse)
            os.sync()  # else the copy's ~9 GB of dirty pages are written back during the timed run
    else:
        warehouse.unlink(missing_ok=True)
        full, report = _journey("run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", last_full)
        layers = dbt_layers(log)
        results.write_text(json.dumps({"full_seconds": full, "phases": _phases(report), "dbt_layers": layers}))
        print(f"full run to {last_full}: {full:.1f} s ({_phases(report)})")
        print(f"  dbt node time by layer: {_layers_text(layers)}")
        if args.keep:
            shutil.copyfile(warehouse, snapshot)
            os.sync()
    one, report = _journey("backfill", "--start", next_day, "--end", next_day, "--landing", str(landing),
                           "--warehouse", str(warehouse))
    print(f"one new day {next_day}: {one:.1f} s ({_phases(report)}), {100 * one / full:.1f} % of the full run")
    print(f"  dbt node time by layer: {_layers_text(dbt_layers(log))}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    size_mb = warehouse.stat().st_size / 1e6
    print(f"peak RSS of the largest journey process: {peak_mb:,.0f} MB; warehouse {size_mb:,.0f} MB")
    print(report)


if __name__ == "__main__":
    main()
