"""Launch the project's Dagster jobs in this process and summarise what happened.

Used by the ``journey`` command; a layer above dagster_project/definitions.py, whose
``build_defs`` it calls with the command's configuration and paths. A run is two Dagster runs, recorded in the
instance like any UI launch: the extract job over the range of ``dt=`` days
(one single-run backfill), then the build job (dbt build with its tests as
asset checks, then the Python marts). The summary is read back from the
warehouse: rows per mart, lines quarantined per source, checks by outcome.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from dagster_project.lib.config import JourneyConfig
from dagster_project.lib.landing import inventory, window_bytes
from dagster_project.lib.memory import release_unused_memory
from dagster_project.lib.partitions import first_partition_date, last_partition_date


class RunnerError(Exception):
    """The run cannot start (nothing to load, a date outside the partitions, a warehouse
    path that cannot hold a DuckDB file, ...): a usage error, exit code 2."""


@dataclass(frozen=True)
class CheckRow:
    asset: str
    check: str
    passed: bool
    severity: str
    detail: str = ""


@dataclass
class Outcome:
    landing: Path
    warehouse: Path
    first_dt: str
    last_dt: str
    as_of: str | None = None
    failures: list[str] = field(default_factory=list)
    checks: list[CheckRow] = field(default_factory=list)
    mart_rows: dict[str, int] = field(default_factory=dict)
    quarantine: dict[str, tuple[int, int]] = field(default_factory=dict)  # source -> (lines, quarantined)
    log_path: Path | None = None
    blocked: dict[str, list[str]] = field(default_factory=dict)  # raw asset -> downstream assets not built
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall seconds (extract, build)
    notes: list[str] = field(default_factory=list)  # what was left out or repaired before the run
    dbt_failures: list[str] = field(default_factory=list)  # one line per failed dbt node
    not_built: list[str] = field(default_factory=list)  # build assets selected but not materialized
    published: dict[str, str] = field(default_factory=dict)  # serving sink -> where the marts were published

    @property
    def failed_blocking_checks(self) -> list[CheckRow]:
        return [c for c in self.checks if not c.passed and c.severity == "ERROR"]

    @property
    def succeeded(self) -> bool:
        return not self.failures and not self.failed_blocking_checks and not self.dbt_failures

    def report(self) -> str:
        lines = [
            f"journey: landing {self.landing}",
            f"         warehouse {self.warehouse}",
            f"         partitions {self.first_dt} .. {self.last_dt}, as_of {self.as_of or '-'}",
            "",
        ]
        lines += self.notes + ([""] if self.notes else [])
        lines.append("Lines per source (read / quarantined):")
        for source, (read, quarantined) in sorted(self.quarantine.items()):
            share = quarantined / read if read else 0.0
            lines.append(f"  {source:<12} {read:>12,} {quarantined:>10,}  ({share:.2%})")
        if self.mart_rows:
            lines += ["", "Rows per mart:"]
            lines += [f"  {name:<32} {rows:>12,}" for name, rows in sorted(self.mart_rows.items())]
        passed = sum(c.passed for c in self.checks)
        warned = sum(not c.passed and c.severity != "ERROR" for c in self.checks)
        failed = len(self.failed_blocking_checks)
        lines += ["", f"Checks: {passed} passed, {warned} warned, {failed} failed"]
        for c in self.checks:
            if not c.passed:
                tag = "FAIL" if c.severity == "ERROR" else "WARN"
                lines.append(f"  {tag} {c.asset} :: {c.check}{(' - ' + c.detail) if c.detail else ''}")
        for asset, skipped in sorted(self.blocked.items()):
            lines.append(
                f"Blocked: {asset} failed a blocking check; {len(skipped)} downstream assets were not built"
                + (f" ({', '.join(skipped[:6])}{', ...' if len(skipped) > 6 else ''})" if skipped else "")
            )
        for failure in self.dbt_failures:
            lines.append(f"dbt failed: {failure}")
        if self.not_built:
            shown = ", ".join(self.not_built[:8]) + (", ..." if len(self.not_built) > 8 else "")
            lines.append(f"Not built: {len(self.not_built)} assets downstream of a failure ({shown})")
        for sink, where in self.published.items():
            lines.append(f"Published: {sink:<8} {where}")
        for failure in self.failures:
            lines.append(f"Run failed: {failure}")
        if self.seconds:
            lines.append("Time: " + ", ".join(f"{phase} {secs:.1f} s" for phase, secs in self.seconds.items()))
        if self.log_path:
            lines.append(f"dbt log: {self.log_path}")
        lines.append("Result: " + ("success" if self.succeeded else "FAILED"))
        return "\n".join(lines)


def _loggers(verbose: bool) -> dict[str, Any]:
    return {"console": {"config": {"log_level": "INFO" if verbose else "ERROR"}}}


def _run_config(verbose: bool) -> dict[str, Any]:
    return {"loggers": _loggers(verbose)}


_CHECK_FAILURE = "DagsterAssetCheckFailedError"


def _failures(result: Any, include_check_failures: bool = True) -> list[str]:
    """Step failures of a run. A step failed only by its own blocking checks is reported
    through the checks, not here, unless ``include_check_failures``."""
    messages = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            if not include_check_failures and error.cls_name == _CHECK_FAILURE:
                continue
            text = error.message.strip().splitlines()
            messages.append(f"{event.step_key}: {text[0] if text else 'failed'}")
    if not messages and not result.success and include_check_failures:
        messages.append("the run failed (see the Dagster UI for its logs)")
    return messages


def _checks(result: Any) -> list[CheckRow]:
    rows = []
    for evaluation in result.get_asset_check_evaluations():
        meta = evaluation.metadata or {}
        detail = ""
        for key in ("failing_rows", "failing_count", "dagster_dbt/failed_row_count"):
            if key in meta:
                detail = f"{meta[key].value} failing rows"
                break
        rows.append(
            CheckRow(
                asset=evaluation.asset_key.to_user_string(),
                check=evaluation.check_name,
                passed=evaluation.passed,
                severity=evaluation.severity.value,
                detail=detail,
            )
        )
    return rows


def _mart_rows(con: Any) -> dict[str, int]:
    """Rows per mart of the ``marts`` schema ``con`` sees."""
    names = con.execute("select table_name from information_schema.tables where table_schema = 'marts' order by 1")
    return {
        name: int(con.execute(f'select count(*) from marts."{name}"').fetchone()[0]) for (name,) in names.fetchall()
    }


def _read_summary(outcome: Outcome, config: JourneyConfig) -> None:
    import duckdb

    if not outcome.warehouse.exists():
        return
    if config.warehouse.engine == "spark":  # the marts are Spark's tables
        from dagster_project.lib.environment import warehouse_resource

        with warehouse_resource(config).tables() as spark_tables:
            outcome.mart_rows.update(_mart_rows(spark_tables))
    gc.collect()  # close any connection a failed step left unreferenced
    try:
        # read-write on purpose: a connection dbt-duckdb left open in this process (it does after a
        # failed build) holds the file read-write, and DuckDB refuses a second, read-only config.
        con = duckdb.connect(str(outcome.warehouse))
    except duckdb.IOException as exc:
        outcome.failures.append(f"could not read the summary from {outcome.warehouse}: {exc}")
        return
    try:
        if config.warehouse.engine == "duckdb":
            outcome.mart_rows.update(_mart_rows(con))
        has_counts = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'load_counts'"
        ).fetchone()[0]
        if has_counts:
            for source, read, quarantined in con.execute(
                "select source, sum(lines_read), sum(rows_quarantined) from audit.load_counts "
                "where dt between ? and ? group by source",
                [outcome.first_dt, outcome.last_dt],
            ).fetchall():
                outcome.quarantine[source] = (int(read), int(quarantined))
    finally:
        con.close()


@dataclass(frozen=True)
class _Plan:
    """What one `journey run` / `journey backfill` asks for."""

    config: JourneyConfig
    config_path: Path  # the orchestration.yaml `config` was loaded from (the assets load it again)
    first_dt: str  # the window of dt= days to load
    last_dt: str
    as_of: date | None  # None: the newest day loaded once the extract is done
    verbose: bool
    full_refresh: bool = False


# An extract whose landing files pass this size runs in a process of its own (with
# warehouse.separate_extract: auto). A long extract leaves this process a few hundred MB
# larger, native memory of DuckDB's and the allocators' heaps that no collection returns
# (~600 MB after the 1 M-customer year against ~400 MB after one day), and this process
# then waits beside dbt's DuckDB for the whole build. Below this size the new process's
# start (~4 s of imports) would cost more than the memory is worth (docs/decisions.md).
SEPARATE_EXTRACT_BYTES = 256 * 1024 * 1024


def separate_extract(plan: _Plan) -> bool:
    """Whether the extract of ``plan`` runs in a process of its own (see SEPARATE_EXTRACT_BYTES)."""
    mode = plan.config.warehouse.separate_extract
    if mode != "auto":
        return mode == "always"
    return window_bytes(plan.config.landing_path, plan.first_dt, plan.last_dt) > SEPARATE_EXTRACT_BYTES


def _import_step_libraries() -> None:
    """Import what the extract and LTV steps use (Arrow; pandas, numpy, scipy) now, while the GX
    worker's import and dbt's parse (_parse_ahead) run on the other core: imported by the steps,
    they would sit on the nightly run's critical path. The definitions leave them out so that a
    command whose extract runs apart waits beside dbt without them (docs/decisions.md)."""
    import dagster_project.extract.loader  # noqa: F401
    import dagster_project.marts.ltv  # noqa: F401


@dataclass
class _Session:
    """Dagster's side of one command: the definitions, the instance, the run log file."""

    defs: Any
    instance: Any
    log_path: Path


@dataclass
class _Extracted:
    """What the extract run left for the build and the report."""

    failures: list[str]
    checks: list[CheckRow]
    seconds: float
    notes: list[str] = field(default_factory=list)


def _open_session(plan: _Plan) -> tuple[_Session, list[str]]:
    """Load the definitions and the instance; (session, notes on runs repaired first)."""
    from dagster import DagsterInstance

    from dagster_project.definitions import build_defs
    from dagster_project.lib.dbt import ensure_manifest
    from dagster_project.orchestration.recovery import fail_abandoned_runs

    ensure_manifest()
    defs = build_defs(plan.config, plan.config_path)
    instance = DagsterInstance.get()
    notes = []
    abandoned = fail_abandoned_runs(instance)
    if abandoned:
        notes.append(
            f"Marked failed: {len(abandoned)} run(s) left unfinished by a journey process that was killed "
            f"({', '.join(abandoned)})"
        )
    log_path = Path(instance.root_directory) / "logs" / "journey-last-run.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    return _Session(defs, instance, log_path), notes


def _execute(plan: _Plan, outcome: Outcome) -> Outcome:
    from dagster_project.quality import gx_worker

    # first: dbt's parse of the build's vars then runs while Dagster loads and the extract runs
    # (on DuckDB: a dbt build on Spark parses for its own target)
    parse_ahead = _parse_ahead(plan) if plan.config.warehouse.engine == "duckdb" else None
    try:
        if separate_extract(plan):
            # this process's GX worker would wait idle beside the extract's own
            gx_worker.stop(wait=False)
            extracted = _extract_apart(plan)
            session, notes = _open_session(plan)
            log_mode = "a"  # after the extract's lines
        else:
            _import_step_libraries()
            session, notes = _open_session(plan)
            extracted = None
            log_mode = "w"
        outcome.notes += notes
        outcome.log_path = session.log_path
        with open(session.log_path, log_mode, encoding="utf-8") as log, _quiet(log, enabled=not plan.verbose):
            if extracted is None:
                extracted = _extract(session, plan)
                # GX checks only the extract: let its worker exit during the build
                gx_worker.stop(wait=False)
                # This process waits beside dbt's DuckDB during the build: keep it small. The
                # extract run leaves reference cycles (Dagster's step contexts and events) that
                # only a full collection frees: once per command, ~0.1 s (docs/decisions.md).
                gc.collect()
                release_unused_memory()
            outcome.notes += extracted.notes
            outcome.seconds["extract"] = extracted.seconds
            outcome.failures += extracted.failures
            outcome.checks += extracted.checks
            if not outcome.failures:
                _build(session, plan, outcome, extracted.checks, parse_ahead)
    finally:
        if parse_ahead is not None:
            parse_ahead.discard_unless_used()
    _read_summary(outcome, plan.config)
    return outcome


@contextmanager
def _quiet(log: TextIO, enabled: bool) -> Iterator[None]:
    """dbt's console output goes to the run log file unless --verbose (Dagster keeps it too)."""
    if not enabled:
        yield
        return
    with redirect_stdout(log):
        yield


def _extract(session: _Session, plan: _Plan) -> _Extracted:
    """Run the extract job for the plan's window in this process."""
    from dagster_project.extract.definitions import EXTRACT_JOB_NAME
    from dagster_project.orchestration.plan import extract_range_tags
    from dagster_project.orchestration.recovery import process_tags

    started = time.perf_counter()
    result = session.defs.resolve_job_def(EXTRACT_JOB_NAME).execute_in_process(
        instance=session.instance,
        run_config=_run_config(plan.verbose),
        tags={**extract_range_tags(plan.first_dt, plan.last_dt), **process_tags()},
        raise_on_error=False,
    )
    return _Extracted(
        failures=_failures(result, include_check_failures=False),
        checks=_checks(result),
        seconds=time.perf_counter() - started,
    )


def _extract_apart(plan: _Plan) -> _Extracted:
    """Run the extract in a new process (``spawn``: a fork would copy this process's threads
    and connections) and wait for it. Its memory goes back to the system when it exits."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    from dagster_project.lib.processes import end_with_parent

    started = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=end_with_parent,  # killed with this process, it stops writing to the warehouse
        initargs=(os.getpid(),),
    ) as pool:
        try:
            return pool.submit(_extract_in_this_process, plan).result()
        except BrokenProcessPool:
            # killed (out of memory?): its Dagster run stays started until _open_session marks it failed
            return _Extracted(
                failures=["extract: its process ended without a result (killed, or out of memory?)"],
                checks=[],
                seconds=time.perf_counter() - started,
            )


def _extract_in_this_process(plan: _Plan) -> _Extracted:
    """The extract's own process (see _extract_apart): the same run as in the command's process."""
    from dagster_project.lib.settings import quiet_beta_warnings
    from dagster_project.quality import gx_worker

    quiet_beta_warnings()
    gx_worker.start()
    try:
        session, notes = _open_session(plan)
        with open(session.log_path, "w", encoding="utf-8") as log, _quiet(log, enabled=not plan.verbose):
            extracted = _extract(session, plan)
    finally:
        gx_worker.stop()
    extracted.notes = notes
    return extracted


def _build(session: _Session, plan: _Plan, outcome: Outcome, extract_checks: list[CheckRow], parse_ahead: Any) -> None:
    """Build everything downstream of what the extract loaded, except what a failed blocking check holds back."""
    import dagster as dg

    from dagster_project.orchestration.plan import BUILD_JOB_NAME, plan_build
    from dagster_project.orchestration.recovery import process_tags

    defs, as_of = session.defs, plan.as_of
    failed = {dg.AssetKey.from_user_string(c.asset) for c in extract_checks if not c.passed and c.severity == "ERROR"}
    build_plan = plan_build(
        defs.resolve_asset_graph(),
        failed,
        plan.first_dt,
        plan.last_dt,
        as_of=as_of.isoformat() if as_of else None,
        full_refresh=plan.full_refresh,
    )
    outcome.blocked = build_plan.blocked
    if not build_plan.assets:
        return
    parsed_target_path = parse_ahead.result() if parse_ahead is not None else None
    run_config = build_plan.run_config(
        str(parsed_target_path) if parsed_target_path else None, loggers=_loggers(plan.verbose)
    )
    started = time.perf_counter()
    build = defs.resolve_job_def(BUILD_JOB_NAME).execute_in_process(
        instance=session.instance,
        run_config=run_config,
        raise_on_error=False,
        asset_selection=list(build_plan.assets),
        tags={**build_plan.tags(), **process_tags()},
    )
    outcome.seconds["build"] = time.perf_counter() - started
    # the dbt step ran in the parsed folder: it holds that build's artifacts and log now
    if parse_ahead is not None:
        parse_ahead.used = any(event.step_key == "journey_dbt" for event in build.all_events)
    outcome.failures += _failures(build)
    outcome.checks += _checks(build)
    outcome.dbt_failures += _dbt_failures(build)
    built = {e.asset_key for e in build.get_asset_materialization_events() if e.asset_key}
    outcome.not_built = sorted(k.to_user_string() for k in set(build_plan.assets) - built)
    for event in build.get_asset_materialization_events():  # the publish asset names its sinks
        for key, value in event.materialization.metadata.items():
            if key.startswith("published/"):
                outcome.published[key.removeprefix("published/")] = str(getattr(value, "value", value))


_MESSAGE_CHARS = 400


def _dbt_failures(result: Any) -> list[str]:
    """The dbt nodes that failed in a build, from the observations the dbt step records
    for them (transform/assets.py): "<unique_id> (<status>): <dbt's message>"."""
    lines = []
    for event in result.all_events:
        if not event.is_asset_observation:
            continue
        meta = event.asset_observation_data.asset_observation.metadata
        if "dbt_unique_id" in meta and "dbt_status" in meta:
            message = meta["dbt_message"].value if "dbt_message" in meta else ""
            if len(message) > _MESSAGE_CHARS:  # the whole message is in the Dagster UI and the dbt log
                message = message[:_MESSAGE_CHARS] + " ..."
            lines.append(f"{meta['dbt_unique_id'].value} ({meta['dbt_status'].value}): {message}")
    return lines


def _parse_ahead(plan: _Plan) -> Any:
    """Start dbt's parse for the build while Dagster loads and the extract runs (see
    lib.dbt.ParseAhead), with the vars the build will have. Its as_of, when not given, is
    the newest day loaded once the extract is done: the newest loaded now or the window's
    last day, whichever is later (a guess; if it is wrong, the build parses as it would
    have anyway)."""
    from dagster_project.lib.dbt import ParseAhead
    from dagster_project.lib.environment import WarehouseResource

    config, as_of, last_dt = plan.config, plan.as_of, plan.last_dt
    if as_of is None:
        as_of = date.fromisoformat(last_dt)
        try:
            loaded = WarehouseResource(path=str(config.warehouse_path)).newest_loaded_dt()
        except Exception:  # a warehouse busy or unreadable now: the extract will say so, not this guess
            loaded = None
        as_of = max(loaded, as_of) if loaded else as_of
    window = (date.fromisoformat(plan.first_dt), date.fromisoformat(last_dt))
    return ParseAhead(config.dbt_vars(as_of, window), str(config.warehouse_path))


def _landing_days(landing: Path) -> tuple[list[str], list[str]]:
    """(valid dt= days present under any entity folder, sorted; one note per name that is not a
    partition: a dt= folder whose name is not a real date, an unknown source or entity folder).
    What a valid dt= folder holds besides landing files is the extract's to count."""
    found = inventory(landing, contents=False)
    notes = [f"Not loaded: {problem.path}: {problem.reason}" for problem in found.problems]
    return found.partitions, notes


def _partition_window(config: JourneyConfig, days: list[str]) -> tuple[list[str], list[str]]:
    """(days inside the daily partitions; one note per group of days left out)."""
    first, last = first_partition_date(config).isoformat(), last_partition_date().isoformat()
    before = [d for d in days if d < first]
    after = [d for d in days if d > last]
    notes = []
    if before:
        notes.append(
            f"Not loaded: {len(before)} dt= day(s) before partitions.start_date {first} "
            f"({before[0]} .. {before[-1]}); remove start_date from orchestration.yaml to load them"
        )
    if after:
        notes.append(f"Not loaded: {len(after)} dt= day(s) after today {last} (UTC): {', '.join(after[:5])}")
    return [d for d in days if first <= d <= last], notes


def check_as_of(as_of: date, first_dt: str, newest_dt: str, allow_future: bool) -> None:
    """An ``as_of`` after the newest day delivered would count every later day as one of
    silence (churn for everybody, months of empty scorecard); before the first day it has
    no data at all. Both are usage errors; the first can be allowed on purpose."""
    if as_of.isoformat() > newest_dt and not allow_future:
        raise RunnerError(
            f"--as-of {as_of} is after the newest dt= folder {newest_dt}; "
            "pass --allow-future-as-of to measure as of a day with no data yet"
        )
    if as_of.isoformat() < first_dt:
        raise RunnerError(f"--as-of {as_of} is before the first partition {first_dt}: there is no data to measure")


def _check_warehouse(config: JourneyConfig) -> None:
    from dagster_project.lib.environment import warehouse_problem

    problem = warehouse_problem(config.warehouse_path)
    if problem:
        raise RunnerError(problem)


def _check_landing(landing: Path) -> None:
    if not landing.is_dir():
        raise RunnerError(f"landing zone {landing} does not exist (create one with `journey generate --out {landing}`)")


def run_all(
    config: JourneyConfig,
    config_path: Path,
    as_of: date | None = None,
    verbose: bool = False,
    full_refresh: bool = False,
    allow_future_as_of: bool = False,
) -> Outcome:
    """Load every ``dt=`` partition present (up to ``as_of``) and build everything downstream.

    ``full_refresh`` rebuilds the incremental dbt models from scratch instead of re-reading
    their window (after a change of their SQL, or to pick up corrections older than the
    late-data lookback).
    """
    landing = config.landing_path
    _check_landing(landing)
    present, notes = _landing_days(landing)
    days, window_notes = _partition_window(config, present)
    if not days:
        left_out = f" ({window_notes[0]})" if window_notes else ""
        raise RunnerError(f"no loadable dt= folders under {landing}{left_out}")
    if as_of is not None:
        check_as_of(as_of, days[0], days[-1], allow_future_as_of)
        days = [d for d in days if d <= as_of.isoformat()]
    _check_warehouse(config)
    as_of = as_of or date.fromisoformat(days[-1])
    outcome = Outcome(landing, config.warehouse_path, days[0], days[-1], as_of.isoformat(), notes=notes + window_notes)
    return _execute(_Plan(config, config_path, days[0], days[-1], as_of, verbose, full_refresh), outcome)


def backfill(
    config: JourneyConfig,
    config_path: Path,
    start: date,
    end: date,
    as_of: date | None = None,
    verbose: bool = False,
    allow_future_as_of: bool = False,
) -> Outcome:
    """Reload the days ``start``..``end`` (a missing folder loads as an empty day) and rebuild downstream."""
    landing = config.landing_path
    _check_landing(landing)
    first, last = first_partition_date(config), last_partition_date()
    if start < first:
        raise RunnerError(f"--start {start} is before the first partition {first} (partitions.start_date)")
    if end > last:
        raise RunnerError(f"--end {end} is after today {last} (UTC): there is no such partition yet")
    present, notes = _landing_days(landing)
    if as_of is not None:
        days, _ = _partition_window(config, present)
        newest = max(days[-1] if days else end.isoformat(), end.isoformat())
        check_as_of(as_of, min(days[0] if days else start.isoformat(), start.isoformat()), newest, allow_future_as_of)
    _check_warehouse(config)
    outcome = Outcome(
        landing,
        config.warehouse_path,
        start.isoformat(),
        end.isoformat(),
        as_of.isoformat() if as_of else None,
        notes=notes,
    )
    return _execute(_Plan(config, config_path, start.isoformat(), end.isoformat(), as_of, verbose), outcome)
