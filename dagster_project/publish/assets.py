"""The publish asset: the marts, all at once, where BI tools read them while the next run writes.

Downstream of every mart (every asset whose table lives in schema ``marts``), so it
is the last step of ``journey run``, ``journey backfill`` and the nightly build.
Dagster skips it when a mart was not materialized in the run (a failed or skipped
model, a source blocked by its quality checks), and it holds back by itself when any
check of ERROR severity failed in the run: a failed or blocked build publishes
nothing, and the previous publication stays in place.
"""

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import dagster as dg

from dagster_project.lib.config import JourneyConfig
from dagster_project.lib.dbt import dbt_project
from dagster_project.lib.environment import JourneySettingsResource, WarehouseResource
from dagster_project.orchestration.selection import failed_blocking_checks
from dagster_project.publish import postgres
from dagster_project.publish.catalog import MartSource, resolve_marts
from dagster_project.publish.publication import Targets, publish
from dagster_project.publish.report import build_report

PUBLISHED_KEY = dg.AssetKey(["serving", "journey_marts"])
GROUP = "publish"


def targets_for(config: JourneyConfig, warehouse: Path, environ: Mapping[str, str]) -> Targets:
    """The sinks of a publication: paths from ``serving.*`` (beside the warehouse by default),
    PostgreSQL only when ``JOURNEY_PG_DSN`` is set."""
    serving = config.serving
    return Targets(
        snapshot=serving.snapshot_path(warehouse),
        parquet=serving.parquet_path(warehouse),
        storage_version=serving.storage_version,
        postgres_dsn=environ.get(postgres.DSN_ENV) or None,
        postgres_schema=serving.postgres_schema,
        postgres_lock_timeout_seconds=serving.postgres_lock_timeout_seconds,
    )


def build_publish_asset(sources: Sequence[MartSource]) -> dg.AssetsDefinition:
    """The publish asset for these marts (the list comes from the asset graph, see definitions.py)."""

    @dg.asset(
        key=PUBLISHED_KEY,
        group_name=GROUP,
        deps=[s.key for s in sources],
        kinds={"duckdb", "parquet", "postgres"},
        output_required=False,  # nothing is published after a failed blocking check
    )
    def journey_marts(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: JourneySettingsResource
    ) -> Iterator[dg.MaterializeResult]:
        """The marts as BI tools read them: `serving/journey_marts.duckdb` (marts schema only, a storage
        format DuckDB 1.4+ opens; open it read-only), `serving/parquet/<mart>.parquet`, and PostgreSQL
        schema `marts` when JOURNEY_PG_DSN is set, and the HTML scorecard `serving/report.html`
        built from the new snapshot. Each is replaced whole (rename, or one transaction),
        so a reader never blocks the pipeline nor sees half a publication. Not run, and the previous
        publication left in place, when a mart was not built or a blocking check failed in the run."""
        failed = failed_blocking_checks(context.instance, context.run_id)
        if failed:
            names = ", ".join(sorted(k.to_user_string() for k in failed))
            context.log.error(f"nothing published: blocking checks failed in this run on {names}")
            return
        manifest = json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))
        marts = resolve_marts(sources, manifest)
        undescribed = sorted(m.table for m in marts if not m.description)
        if undescribed:
            context.log.warning(f"marts without a description: {', '.join(undescribed)}")
        targets = targets_for(settings.config(), Path(warehouse.path), os.environ)
        with warehouse.tables() as con:  # the engine's marts (DuckDB's, or Spark's files)
            publication = publish(con, marts, targets, log=context.log.info)
        for warning in publication.warnings:
            context.log.warning(warning)
        report = targets.snapshot.parent / "report.html"
        build_report(targets.snapshot, report, currency=settings.config().reporting.currency)
        publication.sinks["report"] = str(report)
        yield dg.MaterializeResult(
            metadata={
                **{f"published/{sink}": where for sink, where in publication.sinks.items()},
                "rows": dg.MetadataValue.json(publication.rows),
                "marts": len(publication.rows),
                "dagster/row_count": sum(publication.rows.values()),
            }
        )

    return journey_marts
