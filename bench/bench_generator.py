"""Benchmark of ``journey generate`` at a given scale (default 100,000 customers x 90 days).

Runs the generator into a temporary directory (or ``--out``), then prints wall
time, CPU time, peak RSS (this process and its worker processes, from
``resource.getrusage``), lines and bytes per entity and in total, and removes
the output unless ``--keep``.

Target (project brief): ``--customers 1000000 --days 365`` well under 15
minutes on a 2-core machine, under 2 GB peak RSS.

    python bench/bench_generator.py [--customers 100000] [--days 90] [--gzip] [--workers 2] [--keep]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from dagster_project.generator import GeneratorOptions, run_generation, validate_options


def _peak_rss_mb() -> tuple[float, float]:
    """(this process, largest child) peak RSS in MB; Linux reports ru_maxrss in KB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--gzip", action="store_true")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: up to 2)")
    parser.add_argument("--out", type=Path, help="output directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the output")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    root = args.out or Path(tempfile.mkdtemp(prefix="journey-bench-")) / "landing"
    options = GeneratorOptions(
        out=root,
        customers=args.customers,
        days=args.days,
        seed=args.seed,
        gzip=args.gzip,
        progress=not args.no_progress,
    )
    validate_options(options)
    started = time.perf_counter()
    try:
        summary = run_generation(options, workers=args.workers)
        wall = time.perf_counter() - started
        own, children = _peak_rss_mb()
        customer_days = args.customers * args.days
        print(
            f"journey generate --customers {args.customers:,} --days {args.days}"
            f"{' --gzip' if args.gzip else ''} -> {root}"
        )
        print(f"  wall time      {wall:,.1f} s")
        print(f"  CPU time       {_cpu_seconds():,.1f} s (parent and workers)")
        print(
            f"  peak RSS       parent {own:,.0f} MB, largest worker {children:,.0f} MB "
            f"(sum bound {own + children * 2:,.0f} MB with 2 workers)"
        )
        print(
            f"  lines          {summary.lines:,} ({summary.lines / customer_days:.3f} per customer-day, "
            f"{summary.lines / wall:,.0f} per second)"
        )
        print(f"  bytes          {_size(summary.bytes_written)} in {summary.files:,} files")
        print(
            f"  malformed      {summary.malformed_lines:,}; re-sent {sum(summary.duplicates.values()):,}; "
            f"late cart events {summary.late_events:,}"
        )
        print("  per entity (lines, per customer-day, bytes):")
        for name, lines in summary.rows.items():
            print(
                f"    {name:28s} {lines:>13,} {lines / customer_days:>9.4f} {_size(summary.bytes_per_entity[name]):>12}"
            )
    finally:
        if not args.keep:
            shutil.rmtree(root.parent if args.out is None else root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
