"""Extract assets: one daily-partitioned asset per landing entity (CONTRACT §1).

Each materialization loads its ``dt=`` partitions from the landing zone into
``raw.<source>__<entity>`` and writes the audit trail (``audit.quarantine``,
``audit.load_counts``). A range of days runs as one run (single-run backfill
policy): DuckDB takes one writer at a time, so one process looping over the
days is faster and safer than one run per day.
"""


from pathlib import Path

import dagster as dg

from dagster_project.extract.loader import load_partition
from dagster_project.lib.environment import JourneySettingsResource, LandingResource, WarehouseResource
from dagster_project.lib.landing import ENTITIES, Entity
from dagster_project.lib.partitions import daily_partitions


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
            "quarantined. Re-running a day replaces it."
        ),
        metadata={"dagster/table_name": e.raw_table},
    )
    def _extract(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingResource,
        settings: JourneySettingsResource,
    ) -> dg.MaterializeResult:
        quality = settings.config().quality
        dts = context.partition_keys
        results = []
        with warehouse.connect() as con:
            for dt in dts:
                result = load_partition(
                    con,
                    e,
                    Path(landing.root),
                    dt,
                    business_start=quality.business_start_date,
                    future_tolerance_minutes=quality.future_tolerance_minutes,
                )
                if result.rows_quarantined:
                    context.log.warning(
                        f"{e.source}/{e.name} dt={dt}: {result.rows_quarantined} of {result.lines_read} "
                        "lines quarantined (see audit.quarantine)"
                    )
                results.append(result)
        lines = sum(r.lines_read for r in results)
        quarantined = sum(r.rows_quarantined for r in results)
        return dg.MaterializeResult(
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

    return _extract


def build_extract_assets() -> list[dg.AssetsDefinition]:
    partitions = daily_partitions()
    return [_build_extract_asset(e, partitions) for e in ENTITIES]
