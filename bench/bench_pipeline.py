"""Benchmark the whole pipeline: `journey run` on a generated landing zone, then one more day.

Measures (1) a full run over N customers x D days and (2) the incremental cost of the next
day: the landing zone is generated for D + 1 days, the full run stops at `--as-of` day D,
then `journey backfill` loads day D + 1 alone and rebuilds downstream. Prints wall time,
the extract / build split the runner reports, dbt's time per layer (summed over the nodes
of each layer, from the run's dbt log), and peak RSS of the journey processes. Speed
targets live here, never in tests.

It also times the extract against DuckDB's own reader on the same files, in the same run:
a plain ``read_json`` of every partition of the full run (one statement per entity, into a
temporary table), then the loader alone (``load_partitions`` of every entity and day into a
scratch warehouse, no Dagster, no checks), and prints the loader's speed as a share of
``read_json``'s. Peak RSS is the largest sum of the resident memory of the journey process
and all its descendants (dbt, the GX worker), sampled every 0.2 s from /proc.

    python bench/bench_pipeline.py --customers 100000 --days 90 [--keep DIR] [--new-day-only]
    python bench/bench_pipeline.py --keep DIR --extract-only   # read_json against the loader only
    python bench/bench_pipeline.py --customers 100000 --days 90 --engine spark   # the same on Spark

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
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from rss_timeline import tree_rss  # bench/ is on sys.path when a bench script runs

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


def _tree_rss(root: int) -> int:
    """Bytes resident in process ``root`` and all its descendants (Linux /proc)."""
    return sum(rss for rss, _parent in tree_rss(root).values())


class PeakTreeRss:
    """Samples ``_tree_rss`` of a process every 0.2 s until it ends; ``peak`` in bytes."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak = pid, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(0.2):
            self.peak = max(self.peak, _tree_rss(self.pid))

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


def _journey(*args: str) -> tuple[float, str, int]:
    """Run ``journey``: seconds, its output, the peak RSS of its process tree in bytes."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_project.cli", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = PeakTreeRss(process.pid)
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    peak_bytes = peak.stop()
    if process.returncode != 0:  # a failed run is not a benchmark figure
        sys.exit(f"journey {args[0]} failed ({process.returncode}):\n{stdout}\n{stderr}")
    return elapsed, stdout, peak_bytes


def _partition_files(landing: Path, last_day: str) -> dict[str, list[str]]:
    """Every landing file of the full run, per entity (the days up to ``last_day``)."""
    from dagster_project.lib.landing import ENTITIES

    out = {}
    for e in ENTITIES:
        folders = sorted((landing / e.source / e.name).glob("dt=*"))
        out[e.key] = [str(f) for d in folders if d.name[3:] <= last_day for f in sorted(d.glob("*.jsonl*"))]
    return out


def read_json_seconds(landing: Path, last_day: str, memory_limit: str) -> tuple[float, int]:
    """DuckDB's own reading speed on the same files: one read_json per entity into a temp table."""
    import duckdb

    con = duckdb.connect(config={"memory_limit": memory_limit})
    seconds = lines = 0
    for files in _partition_files(landing, last_day).values():
        if not files:
            continue
        started = time.perf_counter()
        con.execute(
            "create or replace temp table t as select * from "
            "read_json(?, format = 'newline_delimited', ignore_errors = true)",
            [files],
        )
        seconds += time.perf_counter() - started
        lines += con.execute("select count(*) from t").fetchone()[0]
        con.execute("drop table t")
    return seconds, lines


def loader_seconds(landing: Path, last_day: str, scratch: Path) -> tuple[float, int]:
    """The loader alone on the same partitions, into a new warehouse: seconds and lines read."""
    import duckdb

    from dagster_project.extract import loader
    from dagster_project.lib.landing import ENTITIES, partitions_present

    days = [d for d in partitions_present(landing) if d <= last_day]
    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch), config=_duckdb_config(scratch))
    started = time.perf_counter()
    lines = 0
    for e in ENTITIES:
        if hasattr(loader, "load_partitions"):
            lines += sum(r.lines_read for r in loader.load_partitions(con, e, landing, days))
        else:  # an older checkout (PYTHONPATH=<its folder>), for a before/after comparison
            lines += sum(loader.load_partition(con, e, landing, dt).lines_read for dt in days)
    seconds = time.perf_counter() - started
    con.close()
    scratch.unlink(missing_ok=True)
    return seconds, lines


def _duckdb_config(warehouse: Path) -> dict[str, str]:
    """warehouse.* defaults (3 GB); the same limit on a checkout older than the setting."""
    try:
        from dagster_project.lib.config import WarehouseConfig
    except ImportError:
        return {"memory_limit": "3GB"}
    return WarehouseConfig().duckdb_config(warehouse)


def extract_against_read_json(landing: Path, last_day: str, work: Path) -> str:
    """read_json and the loader on the same partitions, one after the other; the ratio."""
    rj_seconds, rj_lines = read_json_seconds(landing, last_day, _duckdb_config(work / "x")["memory_limit"])
    ld_seconds, ld_lines = loader_seconds(landing, last_day, work / "loader-scratch.duckdb")
    return (
        f"read_json {rj_lines:,} lines in {rj_seconds:.1f} s ({rj_lines / rj_seconds:,.0f} lines/s); "
        f"loader {ld_lines:,} lines in {ld_seconds:.1f} s ({ld_lines / ld_seconds:,.0f} lines/s): "
        f"the loader reads at {100 * (ld_lines / ld_seconds) / (rj_lines / rj_seconds):.0f} % of read_json's speed"
    )


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
    parser.add_argument("--gzip", action="store_true", help="generate .jsonl.gz files")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temp folder)")
    parser.add_argument("--new-day-only", action="store_true", help="reuse the full run kept in --keep")
    parser.add_argument("--extract-only", action="store_true", help="only read_json against the loader")
    parser.add_argument(
        "--engine", choices=("duckdb", "spark"), default="duckdb", help="journey run --engine (docs/spark.md)"
    )
    args = parser.parse_args()
    if (args.new_day_only or args.extract_only) and not args.keep:
        parser.error("--new-day-only and --extract-only need --keep DIR")
    if args.new_day_only and args.engine == "spark":
        parser.error("--new-day-only keeps a DuckDB warehouse only: on Spark, measure the full run and the new day")
    engine = ["--engine", args.engine]
    work = args.keep or Path(tempfile.mkdtemp(prefix="journey-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = _home(work) / "logs" / "journey-last-run.log"
    landing, warehouse, results = work / "landing", work / "warehouse.duckdb", work / "bench.json"
    snapshot = work / "warehouse.full.duckdb"
    last_full = (date.fromisoformat(args.start_date) + timedelta(days=args.days - 1)).isoformat()
    next_day = (date.fromisoformat(last_full) + timedelta(days=1)).isoformat()

    if not landing.exists():
        seconds, out, _ = _journey(
            "generate",
            "--out",
            str(landing),
            "--customers",
            str(args.customers),
            "--days",
            str(args.days + 1),
            "--start-date",
            args.start_date,
            "--no-progress",
            *(["--gzip"] if args.gzip else []),
        )
        print(f"generate {args.customers:,} x {args.days + 1} days: {seconds:.1f} s  {out.strip().splitlines()[-1]}")
    if args.extract_only:
        print(f"extract against read_json, days to {last_full}: {extract_against_read_json(landing, last_full, work)}")
        return
    peaks = []
    if args.new_day_only:
        full = json.loads(results.read_text())["full_seconds"]
        print(f"full run to {last_full} (kept from an earlier run): {full:.1f} s")
        if snapshot.exists():
            Path(f"{warehouse}.wal").unlink(missing_ok=True)  # an interrupted run's log belongs to the old file
            shutil.copyfile(snapshot, warehouse)
            os.sync()  # else the copy's ~9 GB of dirty pages are written back during the timed run
    else:
        warehouse.unlink(missing_ok=True)
        shutil.rmtree(f"{warehouse}.spark", ignore_errors=True)  # Spark's home (warehouse.spark.home)
        full, report, peak = _journey(
            "run", "--landing", str(landing), "--warehouse", str(warehouse), "--as-of", last_full, *engine
        )
        peaks.append(peak)
        layers = dbt_layers(log)
        results.write_text(json.dumps({"full_seconds": full, "phases": _phases(report), "dbt_layers": layers}))
        print(
            f"full run to {last_full}: {full:.1f} s ({_phases(report)}); peak RSS of its process tree "
            f"{peak / 1e6:,.0f} MB"
        )
        print(f"  dbt node time by layer: {_layers_text(layers)}")
        if args.engine == "duckdb":
            print(f"  extract against read_json: {extract_against_read_json(landing, last_full, work)}")
        if args.keep:
            shutil.copyfile(warehouse, snapshot)
            os.sync()
    one, report, peak = _journey(
        "backfill",
        "--start",
        next_day,
        "--end",
        next_day,
        "--landing",
        str(landing),
        "--warehouse",
        str(warehouse),
        *engine,
    )
    peaks.append(peak)
    print(f"one new day {next_day}: {one:.1f} s ({_phases(report)}), {100 * one / full:.1f} % of the full run")
    print(f"  dbt node time by layer: {_layers_text(dbt_layers(log))}")
    size_mb = warehouse.stat().st_size / 1e6
    print(f"peak RSS of a journey process tree: {max(peaks) / 1e6:,.0f} MB; warehouse {size_mb:,.0f} MB")
    print(report)


if __name__ == "__main__":
    main()
