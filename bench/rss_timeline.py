"""Run a command and sample the resident memory of it and of every process it starts.

The pipeline's memory is a sum over processes that overlap (the `journey` process with
DuckDB, the GX worker, dbt's process and Dagster's helpers), so a peak of one process says
little. This samples /proc every 0.5 s, writes one CSV row per process and sample
(seconds, pid, command, RSS in MB of 10^6 bytes, parent pid), and prints the largest sum
over the tree, split by kind of process, for each phase of a run (extract: while the GX
worker lives; dbt: while `dbt build` runs; the rest). A large extract runs in a process of
its own (`warehouse.separate_extract`), which starts the GX worker: of the processes that
multiprocessing spawns, the one with a spawned child is the extract, the others GX workers.

    python bench/rss_timeline.py OUT.csv journey run --landing DIR/landing --warehouse W --as-of 2025-12-31

Linux only (reads /proc).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> dict[int, tuple[int, int]]:
    """Bytes resident in process ``root`` and in each of its descendants: pid -> (bytes, parent pid)."""
    children: dict[int, list[int]] = defaultdict(list)
    rss: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone since the listing
                continue
            children[int(fields[1])].append(int(entry))
            rss[int(entry)] = (int(fields[21]) * _PAGE, int(fields[1]))
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in rss:
            found[pid] = rss[pid]
        todo.extend(children.get(pid, ()))
    return found


def _kind(command: str) -> str:
    if "dbt" in command and " build" in command:
        return "dbt"
    if "multiprocessing.spawn" in command:
        return "gx worker"
    if "journey" in command or "dagster_project.cli" in command:
        return "journey"
    return "other"


def sample(out: Path, command: list[str], every: float = 0.5) -> int:
    """Run ``command``, write the samples to ``out``; the command's exit code."""
    process = subprocess.Popen(command)
    started = time.monotonic()
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        while process.poll() is None:
            now = round(time.monotonic() - started, 1)
            for pid, (rss, parent) in tree_rss(process.pid).items():
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").strip()
                except OSError:  # gone between the listing and the read
                    continue
                writer.writerow([now, pid, cmd[:200], round(rss / 1e6), parent])
            handle.flush()
            time.sleep(every)
    return process.returncode


def summary(out: Path) -> list[str]:
    """The peak of the summed RSS in each phase, with its split by kind of process."""
    rows = [(float(r[0]), r[1], r[2], float(r[3]), r[4] if len(r) > 4 else "") for r in csv.reader(out.open())]
    spawned = {pid for _, pid, cmd, _, _ in rows if _kind(cmd) == "gx worker"}
    extract = {parent for _, pid, _, _, parent in rows if pid in spawned and parent in spawned}
    per_time: dict[float, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for seconds, pid, cmd, mb, _ in rows:
        per_time[seconds]["extract process" if pid in extract else _kind(cmd)] += mb
    peaks: dict[str, tuple[float, float, dict[str, float]]] = {}
    for seconds, kinds in per_time.items():
        phase = (
            "dbt"
            if kinds.get("dbt")
            else "extract"
            if kinds.get("gx worker") or kinds.get("extract process")
            else "rest"
        )
        total = sum(kinds.values())
        if total > peaks.get(phase, (0.0,))[0]:
            peaks[phase] = (total, seconds, dict(kinds))
    return [
        f"{phase:<8} peak {total:>7,.0f} MB at {seconds:>7.1f} s  "
        + ", ".join(f"{kind} {mb:,.0f}" for kind, mb in sorted(kinds.items(), key=lambda kv: -kv[1]))
        for phase, (total, seconds, kinds) in sorted(peaks.items(), key=lambda kv: kv[1][1])
    ]


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    code = sample(out, sys.argv[2:])
    print("\n".join(summary(out)))
    sys.exit(code)


if __name__ == "__main__":
    main()
