"""Extract assets: one daily-partitioned asset per landing entity (CONTRACT §1).

Each materialization loads its ``dt=`` partitions from the landing zone into
``raw.<source>__<entity>`` and writes the audit trail (``audit.quarantine``,
``audit.load_counts``). A range of days runs as one run (single-run backfill
policy): DuckDB takes one writer at a time, so one process looping over the
days is faster and safer than one run per day.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from dagster_project.lib import lake
from dagster_project.lib.config import JourneyConfig
from dagster_project.lib.environment import JourneySettingsResource, LandingResource, WarehouseResource
from dagster_project.lib.landing import ENTITIES, Entity, landing_problems
from dagster_project.lib.memory import release_unused_memory
from dagster_project.lib.partitions import daily_partitions
from dagster_project.quality import checks

if TYPE_CHECKING:  # the loader (and its Arrow) is imported by the step that loads, see below
    from dagster_project.extract.loader import LoadResult

_CHECK_DESCRIPTIONS = {
    "gx_suite": "Great Expectations suite of the entity (data_tests/gx/) on each loaded partition.",
    "quarantine_share": "Share of landing lines quarantined per partition under quality.quarantine_threshold.",
    "row_volume": "Rows loaded per partition within quality.volume_anomaly_band of the trailing 7-day mean.",
    "landing_problems": "Names under the entity's landing folder that are not a valid dt= partition (dt=garbage, "
    "dt=2025-02-30, stray files) and names under the landing root that are no entity folder "
    "(audit.landing_problems). Warns, never blocks.",
}


def _check_specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    # gx_suite and quarantine_share block downstream assets when they fail at ERROR severity.
    return [
        dg.AssetCheckSpec(
            name, asset=key, description=_CHECK_DESCRIPTIONS[name], blocking=checks.DEFAULT_SEVERITY[name] == "ERROR"
        )
        for name in checks.CHECK_NAMES
    ]


def _to_result(key: dg.AssetKey, e: Entity, outcome: checks.CheckOutcome, overrides: dict[str, str]):
    severity = checks.severity_for(outcome.name, e, overrides, outcome.severity)
    metadata = {
        "failing_count": outcome.failing_count,
        "expectation": dg.MetadataValue.text(outcome.description),
    }
    for name, value in outcome.metadata.items():
        metadata[name] = dg.MetadataValue.json(value) if isinstance(value, list | dict) else value
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=outcome.name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity(severity),
        metadata=metadata,
        description=outcome.description,
    )


def quarantine_summary(e: Entity, results: Sequence["LoadResult"], listed: int = 5) -> str | None:
    """One warning for the days of a run that quarantined lines: how many, and the worst days.

    One line per run, not one per day: each log line is an event Dagster stores, and a
    year's backfill would otherwise write thousands of them (docs/decisions.md).
    """
    hit = [r for r in results if r.rows_quarantined]
    if not hit:
        return None
    quarantined = sum(r.rows_quarantined for r in hit)
    read = sum(r.lines_read for r in results)
    worst = sorted(hit, key=lambda r: (-r.rows_quarantined, r.dt))[:listed]
    days = ", ".join(f"dt={r.dt} {r.rows_quarantined} of {r.lines_read}" for r in worst)
    more = f" and {len(hit) - len(worst)} more day(s)" if len(hit) > len(worst) else ""
    return (
        f"{e.source}/{e.name}: {quarantined} of {read} lines quarantined on {len(hit)} of {len(results)} day(s) "
        f"(most: {days}{more}; see audit.quarantine)"
    )


def extract_asset_key(e: Entity) -> dg.AssetKey:
    return dg.AssetKey(["raw", e.source, e.name])


def _build_extract_asset(e: Entity, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        key=extract_asset_key(e),
        group_name=f"raw_{e.source}",
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        kinds={"duckdb", "python"},
        description=(
            f"Raw `{e.source}/{e.name}` landing lines for one dt= day, loaded into `{e.raw_table}` "
            "(every valid line, as JSON, with file and line number). Invalid lines go to "
            "`audit.quarantine` with their reason; `audit.load_counts` has lines read = loaded + "
            "quarantined. Re-running a day replaces it. With warehouse.engine spark, the loaded "
            "days are also written to Spark's Parquet lake (docs/spark.md)."
        ),
        metadata={"dagster/table_name": e.raw_table},
        check_specs=_check_specs(extract_asset_key(e)),
    )
    def _extract(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingResource,
        settings: JourneySettingsResource,
    ):
        quality = settings.config().quality
        dts = context.partition_keys
        root = Path(landing.root)
        results = []
        with warehouse.connect() as con:
            noticed_at = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
            found = landing_problems(root, only=e, contents=False)
            problems = checks.record_landing_problems(con, e, root, found, noticed_at)
        for problem in problems:
            context.log.warning(f"landing zone: {problem.path}: {problem.reason} (not loaded)")
        # several days per read, query and transaction (extract/loader.py), one result per day.
        # A new connection per ~1 GB of landing text (and per GX chunk): closing one hands back
        # the blocks DuckDB cached (up to warehouse.memory_limit), which would otherwise stay
        # resident beside the GX frames (docs/decisions.md).
        # (imported here: the loader's Arrow is not needed by a process that only builds,
        # such as the command waiting beside dbt; docs/decisions.md)
        from dagster_project.extract.loader import day_batches, load_partitions

        for days in list(day_batches(e, root, dts)) or [[]]:  # [[]]: no days still creates the tables
            with warehouse.connect() as con:
                results += load_partitions(
                    con, e, root, days, future_tolerance_minutes=quality.future_tolerance_minutes
                )
            release_unused_memory()
        summary = quarantine_summary(e, results)
        if summary:
            context.log.warning(summary)
        outcomes = [checks.gx_suite_check(warehouse.connect, e, dts, quality.future_tolerance_minutes)]
        with warehouse.connect() as con:
            local_spark = warehouse.spark()
            if local_spark is not None:  # Spark reads the loaded days from its lake (lib/lake.py)
                lake.export_entity(con, local_spark.lake, e.key, [date.fromisoformat(dt) for dt in dts])
            outcomes += [
                checks.quarantine_share_check(con, e, dts, quality.threshold_for(e.source)),
                checks.row_volume_check(con, e, dts, quality.volume_anomaly_band),
                checks.landing_problems_check(e, problems),
            ]
        release_unused_memory()
        lines = sum(r.lines_read for r in results)
        quarantined = sum(r.rows_quarantined for r in results)
        yield dg.MaterializeResult(
            metadata={
                "partitions": dg.MetadataValue.text(f"{dts[0]} .. {dts[-1]}" if dts else "none"),
                "files": sum(r.files for r in results),
                "lines_read": lines,
                "rows_loaded": sum(r.rows_loaded for r in results),
                "rows_quarantined": quarantined,
                "quarantine_share": round(quarantined / lines, 6) if lines else 0.0,
                "dagster/row_count": sum(r.rows_loaded for r in results),
            }
        )
        for outcome in outcomes:
            yield _to_result(extract_asset_key(e), e, outcome, quality.severities)

    return _extract


def build_extract_assets(config: JourneyConfig) -> list[dg.AssetsDefinition]:
    """One daily-partitioned asset per landing entity; the first partition depends on the
    configuration's landing zone (lib/partitions.py)."""
    partitions = daily_partitions(config)
    return [_build_extract_asset(e, partitions) for e in ENTITIES]
