"""Data-quality checks of one run's raw partitions (CONTRACT §5), as pure functions over DuckDB.

Three checks per landing entity, attached to its extract asset:

- ``gx_suite``: the entity's Great Expectations suite (``data_tests/gx/<entity>.json``)
  validated on the rows loaded for each partition, through GX's pandas datasource
  (GX's SQL datasource returns wrong results on DuckDB). Only the columns the suite
  names are pulled, and only for the run's partitions; none of them is personal data,
  so samples of failing values can be shown.
- ``quarantine_share``: the share of a partition's lines sent to the quarantine must
  stay under ``quality.quarantine_threshold`` (per source).
- ``row_volume``: a partition's loaded rows within ``quality.volume_anomaly_band`` of the
  mean of the 7 partitions before it (a volume anomaly warns; it never blocks).
- ``landing_problems``: names under the entity's landing folder that are no partition at
  all (``dt=garbage``, ``dt=2025-02-30``, a stray file), and names under the landing
  root that are no entity folder, as recorded in ``audit.landing_problems`` (warns; never
  blocks). An unexpected file *inside* a valid ``dt=`` folder is a quarantine row instead.

Each returns a ``CheckOutcome``; the extract asset turns them into ``AssetCheckResult``s.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from dagster_project.lib.landing import ENTITIES, Entity, LandingProblem
from dagster_project.lib.settings import PROJECT_ROOT
from dagster_project.quality import gx_worker

SUITES_DIR = PROJECT_ROOT / "data_tests" / "gx"
CHECK_NAMES = ("gx_suite", "quarantine_share", "row_volume", "landing_problems")
DEFAULT_SEVERITY = {"gx_suite": "ERROR", "quarantine_share": "ERROR", "row_volume": "WARN", "landing_problems": "WARN"}
VOLUME_HISTORY_DAYS = 7  # trailing window of the volume check (issue 5: "trailing 7-day mean")
VOLUME_MIN_HISTORY = 3  # fewer earlier partitions than this: too little history to judge
SAMPLE_SIZE = 5
# A backfill's partitions are validated in chunks of whole days of at most this many
# rows, so memory stays bounded on a year of a large shop (a day is never split: the
# uniqueness expectations are per partition). At 1 M customers, chunks of 1 M rows grew the
# GX worker to 2 GB and the journey process 1 GB past DuckDB's limit (the frame and its
# pickled copy); 250 k rows validate as fast (docs/decisions.md).
GX_CHUNK_ROWS = 250_000
# Opens a warehouse connection for one read (WarehouseResource.connect; tests wrap an open one)
Connect = Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    severity: str  # severity to report if failed: ERROR or WARN
    description: str
    failing_count: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


@cache
def load_suite(entity_key: str, suites_dir: Path = SUITES_DIR) -> dict[str, Any]:
    path = suites_dir / f"{entity_key}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _suite_frame_sql(suite: dict[str, Any], table: str, tolerance_minutes: int = 60) -> str:
    """The suite's columns for the run's partitions, each row with its dt and its day's end bound."""
    columns = ", ".join(f"{sql} as {name}" for name, sql in suite["columns"].items())
    day_end = f"epoch(cast(_dt as timestamp) + interval 1 day)::bigint + {60 * tolerance_minutes}"
    return (
        f"select cast(_dt as varchar) as dt, {day_end} as dt_end_epoch, {columns} from {table} "
        # the range on _dt itself lets DuckDB skip the row groups of other days (zone maps);
        # the list alone would scan the whole raw table
        "where _dt between cast(? as date) and cast(? as date) "
        "and cast(_dt as varchar) in (select unnest(?::varchar[]))"
    )


def _chunks(con: duckdb.DuckDBPyConnection, e: Entity, dts: list[str]) -> list[list[str]]:
    """The run's days grouped into runs of consecutive days of at most GX_CHUNK_ROWS rows loaded."""
    counts = dict(
        con.execute(
            "select dt::varchar, rows_loaded from audit.load_counts where source = ? and entity = ? "
            "and dt::varchar in (select unnest(?::varchar[]))",
            [e.source, e.name, dts],
        ).fetchall()
    )
    chunks: list[list[str]] = [[]]
    rows = 0
    for dt in sorted(dts):
        if chunks[-1] and rows + counts.get(dt, 0) > GX_CHUNK_ROWS:
            chunks.append([])
            rows = 0
        chunks[-1].append(dt)
        rows += counts.get(dt, 0)
    return chunks


def _merge(outcomes: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Combine the per-expectation outcomes of two chunks (same suite, same order)."""
    if not outcomes:
        return more
    return [
        a
        | {
            "success": a["success"] and b["success"],
            "unexpected_count": a["unexpected_count"] + b["unexpected_count"],
            "sample": (a["sample"] + b["sample"])[:SAMPLE_SIZE],
            "error": a["error"] or b["error"],
        }
        for a, b in zip(outcomes, more, strict=True)
    ]


def gx_suite_check(connect: Connect, e: Entity, dts: list[str], tolerance_minutes: int) -> CheckOutcome:
    """The entity's GX suite on the rows loaded for ``dts``, chunk by chunk.

    ``connect`` opens a connection to the warehouse (``WarehouseResource.connect``): each
    chunk is read through a connection of its own, closed before GX validates it, so the
    blocks DuckDB caches while reading a year of rows are handed back chunk by chunk instead
    of filling ``warehouse.memory_limit`` beside the frames (docs/decisions.md).
    """
    suite = load_suite(e.key)
    expectations = suite["expectations"]
    rows = 0
    outcomes: list[dict[str, Any]] = []
    with connect() as con:
        chunks = _chunks(con, e, dts)
    sql = _suite_frame_sql(suite, e.raw_table, tolerance_minutes)
    # One chunk ahead: the GX worker validates a chunk while this process reads the next
    # (two frames at a time, docs/decisions.md).
    pending: gx_worker.Pending | None = None
    for chunk in chunks:
        with connect() as con:
            frame = con.execute(sql, [min(chunk), max(chunk), chunk]).df()
        if pending is not None:
            outcomes = _merge(outcomes, pending.result())
            pending = None
        if len(frame):
            rows += len(frame)
            pending = gx_worker.submit(frame, expectations, SAMPLE_SIZE)
        del frame
    if pending is not None:
        outcomes = _merge(outcomes, pending.result())
    failing = [o for o in outcomes if not o["success"]]
    blocking = [f for f in failing if f["severity"] == "ERROR"]
    return CheckOutcome(
        name="gx_suite",
        passed=not failing,
        severity="ERROR" if blocking else "WARN",
        description=f"Great Expectations suite {e.key} ({len(suite['expectations'])} expectations) on each partition",
        failing_count=sum(f["unexpected_count"] for f in failing),
        metadata={
            "rows_validated": rows,
            "partitions": f"{dts[0]} .. {dts[-1]}" if dts else "none",
            "failed_expectations": failing,
            "suite": str(SUITES_DIR / f"{e.key}.json"),
        },
    )


def quarantine_share_check(con: duckdb.DuckDBPyConnection, e: Entity, dts: list[str], threshold: float) -> CheckOutcome:
    per_dt = con.execute(
        "select dt::varchar, lines_read, rows_quarantined from audit.load_counts "
        "where source = ? and entity = ? and dt::varchar in (select unnest(?::varchar[])) order by dt",
        [e.source, e.name, dts],
    ).fetchall()
    over = [
        {"dt": dt, "lines_read": read, "rows_quarantined": q, "share": round(q / read, 4)}
        for dt, read, q in per_dt
        if read and q / read > threshold
    ]
    reasons = con.execute(
        "select reason_code, count(*) as lines from audit.quarantine where source = ? and entity = ? "
        "and dt::varchar in (select unnest(?::varchar[])) group by 1 order by 2 desc",
        [e.source, e.name, dts],
    ).fetchall()
    sample = con.execute(
        "select dt::varchar, file_path, line_number, reason_code from audit.quarantine "
        "where source = ? and entity = ? and dt::varchar in (select unnest(?::varchar[])) "
        "order by dt, file_path, line_number limit ?",
        [e.source, e.name, dts, SAMPLE_SIZE],
    ).fetchall()
    return CheckOutcome(
        name="quarantine_share",
        passed=not over,
        severity="ERROR",
        description=f"share of landing lines quarantined per partition <= {threshold:.2%}",
        failing_count=sum(o["rows_quarantined"] for o in over),
        metadata={
            "threshold": threshold,
            "partitions_over_threshold": over,
            "quarantined_by_reason": {code: n for code, n in reasons},
            "sample": [{"dt": dt, "file": path, "line": line, "reason_code": code} for dt, path, line, code in sample],
        },
    )


def row_volume_check(con: duckdb.DuckDBPyConnection, e: Entity, dts: list[str], band: float) -> CheckOutcome:
    history = dict(
        con.execute(
            "select dt::varchar, rows_loaded from audit.load_counts where source = ? and entity = ? "
            "and files > 0 order by dt",
            [e.source, e.name],
        ).fetchall()
    )
    ordered = sorted(history)
    anomalies = []
    for dt in dts:
        if dt not in history:
            continue
        earlier = [history[d] for d in ordered if d < dt][-VOLUME_HISTORY_DAYS:]
        if len(earlier) < VOLUME_MIN_HISTORY:
            continue
        mean = sum(earlier) / len(earlier)
        if mean and abs(history[dt] - mean) > band * mean:
            anomalies.append({"dt": dt, "rows_loaded": history[dt], "trailing_mean": round(mean, 1)})
    return CheckOutcome(
        name="row_volume",
        passed=not anomalies,
        severity="WARN",
        description=f"rows loaded within ±{band:.0%} of the trailing {VOLUME_HISTORY_DAYS}-partition mean",
        failing_count=len(anomalies),
        metadata={"anomalies": anomalies},
    )


def severity_for(check: str, e: Entity, overrides: dict[str, str], outcome_severity: str) -> str:
    """Configured severity (``quality.severities``): '<source>/<entity>:<check>' beats '<check>'."""
    configured = overrides.get(f"{e.source}/{e.name}:{check}") or overrides.get(check)
    return configured or outcome_severity


LANDING_PROBLEMS_DDL = (
    "create table if not exists audit.landing_problems (path varchar not null, reason varchar not null, "
    "entity varchar, noticed_at timestamp not null)"
)


def record_landing_problems(
    con: duckdb.DuckDBPyConnection, e: Entity, landing: Path, problems: list[LandingProblem], noticed_at: datetime
) -> list[LandingProblem]:
    """Replace the problems recorded for ``e``'s folder (and those outside every entity folder).

    Only the problems that belong to no partition are kept here: the ones inside a valid
    ``dt=`` folder become quarantine rows when that partition loads. Returns what it kept
    for ``e`` (its folder's problems, then those outside any entity folder).
    """
    folder = landing / e.source / e.name
    mine = [p for p in problems if p.dt is None and p.path.is_relative_to(folder)]
    orphans = [p for p in problems if p.dt is None and not _in_any_entity(landing, p.path)]
    con.execute("create schema if not exists audit")
    con.execute(LANDING_PROBLEMS_DDL)
    con.execute("begin transaction")
    try:
        con.execute("delete from audit.landing_problems where entity = ? or entity is null", [e.key])
        rows = [(str(p.path), p.reason, e.key, noticed_at) for p in mine]
        rows += [(str(p.path), p.reason, None, noticed_at) for p in orphans]
        if rows:
            con.executemany("insert into audit.landing_problems values (?, ?, ?, ?)", rows)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return mine + orphans


def _in_any_entity(landing: Path, path: Path) -> bool:
    return any(path.is_relative_to(landing / x.source / x.name) for x in ENTITIES)


def landing_problems_check(e: Entity, problems: list[LandingProblem]) -> CheckOutcome:
    return CheckOutcome(
        name="landing_problems",
        passed=not problems,
        severity="WARN",
        description="every name under the landing zone is a landing file of a valid dt= partition",
        failing_count=len(problems),
        metadata={
            "problems": [{"path": str(p.path), "reason": p.reason} for p in problems[:50]],
            "table": "audit.landing_problems",
        },
    )
