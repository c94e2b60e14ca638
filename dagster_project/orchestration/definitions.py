"""Cross-domain orchestration: the build job, the nightly schedule and the sensors.

- ``build_warehouse``: every dbt model, test and Python mart downstream of the raw layer.
- ``nightly`` schedule (``schedule.cron`` in ``schedule.timezone``): loads the latest
  complete UTC day (the ``dt`` of yesterday) with the extract job.
- ``build_after_extract`` sensor: when an extract run ends, successful or stopped only
  by its own blocking checks, launch the build for that run's newest day, minus the
  downstream of any source whose blocking check failed.
- ``new_landing_folders`` sensor: a new ``dt=`` folder, or new files in an old one (a
  re-delivery), launches the extract of that day.
Runs go through the queued run coordinator with one run at a time (``.dagster_home/dagster.yaml``):
the embedded DuckDB file takes one writer.
"""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from pathlib import Path

import dagster as dg

from dagster_project.extract.definitions import EXTRACT_JOB_NAME
from dagster_project.lib.config import JourneyConfig
from dagster_project.lib.landing import ENTITIES
from dagster_project.lib.partitions import first_partition_date, is_partition_name
from dagster_project.orchestration.plan import BUILD_JOB_NAME, BUILD_SELECTION, extract_window, plan_build
from dagster_project.orchestration.selection import failed_blocking_checks, only_check_failures


def scheduled_partition(scheduled_time) -> str:
    """The latest complete UTC day at a scheduled time: the day before, in UTC."""
    return (scheduled_time.astimezone(UTC).date() - timedelta(days=1)).isoformat()


def landing_changes(landing: Path, seen: dict[str, float], start_date: str | None = None) -> dict[str, float]:
    """dt folders whose newest file is newer than last seen (new days and re-deliveries).
    Folders whose name is not a valid date are left to the extract's report; days before an
    explicit ``start_date`` are outside the partitions."""
    changed: dict[str, float] = {}
    for e in ENTITIES:
        base = landing / e.source / e.name
        if not base.is_dir():
            continue
        for folder in base.glob("dt=*"):
            dt = folder.name.removeprefix("dt=")
            if not folder.is_dir() or not is_partition_name(dt) or (start_date and dt < start_date):
                continue
            newest = max((f.stat().st_mtime for f in folder.iterdir() if f.is_file()), default=0.0)
            if newest > max(seen.get(dt, 0.0), changed.get(dt, 0.0)):
                changed[dt] = newest
    return changed


def build_definitions(config: JourneyConfig, *domains: dg.Definitions) -> dg.Definitions:
    """The build job, the schedule and the sensors over the assets of ``domains`` (the other
    domains' Definitions and the resources, whose asset graph the build-after-extract sensors
    plan against)."""
    first_partition = first_partition_date(config).isoformat()
    landing = config.landing_path
    graph = None

    def asset_graph() -> dg.AssetGraph:
        nonlocal graph  # resolved at the first sensor tick, not when the definitions load
        if graph is None:
            graph = dg.Definitions.merge(*domains).resolve_asset_graph()
        return graph

    # No blanket retry policy, here or on the extract job: a failed test, a SQL error or a
    # broken warehouse file would only fail again. Only a transient error (the DuckDB file
    # locked by another process, I/O busy) asks for a retry, where it happens
    # (lib/environment.py WarehouseResource.connect; retries.* in orchestration.yaml).
    build_job = dg.define_asset_job(
        BUILD_JOB_NAME,
        selection=BUILD_SELECTION,
        description="Build and test every model, mart and check downstream of the raw layer.",
    )

    @dg.schedule(
        name="nightly",
        cron_schedule=config.schedule.cron,
        execution_timezone=config.schedule.timezone,
        job_name=EXTRACT_JOB_NAME,
        default_status=(
            dg.DefaultScheduleStatus.RUNNING if config.schedule.enabled else dg.DefaultScheduleStatus.STOPPED
        ),
        description="Load the latest complete day; build_after_extract then builds everything downstream.",
    )
    def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        dt = scheduled_partition(context.scheduled_execution_time)
        return dg.RunRequest(run_key=f"nightly-{dt}", partition_key=dt, tags={"journey/trigger": "nightly"})

    @dg.sensor(
        name="new_landing_folders",
        job_name=EXTRACT_JOB_NAME,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Launch the extract of a dt= day when its folder appears or receives new files.",
    )
    def new_landing_folders(context: dg.SensorEvaluationContext):
        seen: dict[str, float] = json.loads(context.cursor) if context.cursor else {}
        # the extract job's partitions were fixed when the definitions loaded: an older day
        # delivered since is loaded by `journey run` or after a reload of the code location
        changed = landing_changes(landing, seen, first_partition)
        for dt, mtime in sorted(changed.items()):
            yield dg.RunRequest(
                run_key=f"landing-{dt}-{mtime}", partition_key=dt, tags={"journey/trigger": "new_landing_folder"}
            )
        if changed:
            context.update_cursor(json.dumps(seen | changed))

    @dg.run_status_sensor(
        name="build_after_extract",
        run_status=dg.DagsterRunStatus.SUCCESS,
        request_job=build_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Build everything downstream after a successful extract run.",
    )
    def build_after_extract(context: dg.RunStatusSensorContext):
        return _build_request(context, asset_graph())

    @dg.run_failure_sensor(
        name="build_after_blocked_extract",
        request_job=build_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After an extract stopped only by blocking checks, build what the failed sources do not feed.",
    )
    def build_after_blocked_extract(context: dg.RunFailureSensorContext):
        return _build_request(context, asset_graph())

    sensors = [new_landing_folders, build_after_extract, build_after_blocked_extract]
    return dg.Definitions(jobs=[build_job], schedules=[nightly], sensors=sensors)


def _build_request(context: dg.RunStatusSensorContext, graph: dg.AssetGraph) -> dg.RunRequest | dg.SkipReason:
    run = context.dagster_run
    if run.job_name != EXTRACT_JOB_NAME:
        return dg.SkipReason(f"run {run.run_id} is not an extract run")
    if run.status == dg.DagsterRunStatus.FAILURE and not only_check_failures(context.instance, run.run_id):
        return dg.SkipReason(f"extract run {run.run_id} failed on an error, not a check: nothing to build")
    first, last = extract_window(run.tags)
    # as_of: the newest day this extract loaded (the journey command may measure as of another)
    plan = plan_build(graph, failed_blocking_checks(context.instance, run.run_id), first, last, as_of=last)
    if not plan.assets:
        return dg.SkipReason(f"every build asset is downstream of a failed check: {sorted(plan.blocked)}")
    return dg.RunRequest(
        run_key=f"build-after-{run.run_id}",
        asset_selection=list(plan.assets),
        run_config=plan.run_config(),
        tags={"journey/after_extract": run.run_id, **plan.tags()},
    )
