"""dbt models (staging, intermediate, journey, marts) as Dagster assets; dbt tests as asset checks.

One ``dbt build`` per run, with the run's ``as_of``, every metric parameter of
``orchestration.yaml`` and the warehouse resource's file passed as ``--vars``: the SQL
reads its parameters from the same validated config as the Python assets, and the
profile opens the file the run's resources name.

A failing dbt node stops only its own downstream: dbt build skips what depends on a
failed model or a failed ERROR test, and the step itself does not fail on them, so the
assets built meanwhile (and the Python assets that need only those) go on. Each failed
node is recorded as an observation of its asset (``dbt_status``, ``dbt_message``) and
an error in the step's log; the ``journey`` command prints them and exits 1.
"""

import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.lib import lake, spark
from dagster_project.lib.dbt import (
    PYTHON_ASSET_MODELS,
    DbtNodeFailure,
    JourneyDbtTranslator,
    dbt_project,
    failed_nodes,
    skipped_nodes,
    with_warehouse,
)
from dagster_project.lib.environment import JourneySettingsResource, WarehouseResource
from dagster_project.lib.landing import ENTITIES

DBT_PROJECT = dbt_project()


class DbtBuildConfig(dg.Config):
    as_of: str | None = None  # YYYY-MM-DD; default: the newest dt= day loaded
    window_start: str | None = None  # dt= days the incremental models re-read (plus the lookback);
    window_end: str | None = None  # default: everything newer than what they hold
    full_refresh: bool = False  # rebuild the incremental models from scratch
    # a dbt target folder where `dbt parse` already ran with this build's vars (set by the
    # journey command, see lib.dbt.ParseAhead): the build runs there and skips the parse
    parsed_target_path: str | None = None


def dbt_build_args(dbt_vars: dict, full_refresh: bool, environ: Mapping[str, str]) -> list[str]:
    """The `dbt build` command line of a run.

    dbt unit tests run in CI (data_tests/test_dbt_unit_tests.py); a nightly build on real
    data runs the models and their data tests only. dbt's own debug file log (dbt.log) is
    off unless DBT_LOG_LEVEL_FILE is set (e.g. to debug): it repeats what is kept elsewhere,
    the event stream (in Dagster, and in the journey command's run log) and every statement
    compiled under target/, and serialising its ~1,400 SQL events cost about a second of a
    one-day build at 1 M customers.
    """
    args = ["build", "--vars", json.dumps(dbt_vars), "--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    if "DBT_LOG_LEVEL_FILE" not in environ:
        args += ["--log-level-file", "none"]
    return args


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=JourneyDbtTranslator(),
    name="journey_dbt",
    exclude=PYTHON_ASSET_MODELS,  # tables a Python asset writes (mart_customer_ltv): declared to dbt only
)
def journey_dbt(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    settings: JourneySettingsResource,
    config: DbtBuildConfig,
):
    """Build the dbt models selected for this run and run their data tests."""
    as_of = warehouse.resolve_as_of(config.as_of)
    context.log.info(f"dbt build with as_of={as_of}")
    window = None
    if config.window_start:
        window = (date.fromisoformat(config.window_start), date.fromisoformat(config.window_end or config.window_start))
    dbt_vars = with_warehouse(settings.config().dbt_vars(as_of, window), warehouse.path)
    newest = warehouse.newest_loaded_dt()
    full_refresh = config.full_refresh or (newest is not None and as_of < newest)
    if full_refresh and not config.full_refresh:
        # the incremental models hold state as of a later day: rebuild them as known at as_of
        context.log.info(f"as_of {as_of} is before the newest loaded day {newest}: full refresh")
    args = dbt_build_args(dbt_vars, full_refresh, os.environ)
    target_path = None
    if warehouse.spark() is not None:
        register_lake(warehouse)  # the parse ahead was for DuckDB: dbt parses again for Spark
    elif config.parsed_target_path and Path(config.parsed_target_path).is_dir():
        target_path = Path(config.parsed_target_path)
    invocation = dbt.cli(args, context=context, target_path=target_path, raise_on_error=False)
    yield from invocation.stream()
    # dbt exits 1 when nodes failed (their downstream was skipped, the rest was built) and
    # 2 when it could not run at all (a compile error, a bad profile): only that fails the step.
    results_path = invocation.target_path / "run_results.json"
    if invocation.process.returncode not in (0, 1) or not results_path.is_file():
        raise dg.Failure(
            description=f"dbt build could not run (exit code {invocation.process.returncode})",
            metadata={"error": dg.MetadataValue.text(str(invocation.get_error() or ""))},
        )
    run_results = invocation.get_artifact("run_results.json")
    keys = _asset_keys_by_unique_id(journey_dbt)  # the whole project: a test may check an unselected model
    skipped = skipped_nodes(run_results)
    for failure in failed_nodes(run_results):
        context.log.error(f"dbt {failure.unique_id} {failure.status}: {failure.message}")
        key = keys.get(failure.unique_id)
        if key is not None:
            yield _failure_observation(key, failure, len(skipped))
    if skipped:
        context.log.warning(f"dbt skipped {len(skipped)} nodes downstream of a failure: {', '.join(skipped)}")


def register_lake(warehouse: WarehouseResource) -> None:
    """On Spark: declare the lake's landing tables (the extract wrote them) as Spark tables
    before the build, so new days and new files are seen (lib/lake.py, macros/spark.sql)."""
    local = warehouse.spark()
    reason = spark.unavailable()
    if reason:
        raise dg.Failure(description=f"warehouse.engine is spark, but Spark cannot start here: {reason}")
    with warehouse.connect(read_only=True) as con:
        tables = lake.lake_tables(con, local.lake, [e.key for e in ENTITIES])
    try:
        local.register(tables)
    except RuntimeError as exc:
        raise dg.Failure(description=str(exc)) from exc


def _asset_keys_by_unique_id(assets_def: dg.AssetsDefinition) -> dict[str, dg.AssetKey]:
    """dbt unique_id -> the asset it is (a model, seed, snapshot) or checks (a test)."""
    keys = {}
    for spec in assets_def.specs:
        if "dagster_dbt/unique_id" in spec.metadata:
            keys[spec.metadata["dagster_dbt/unique_id"]] = spec.key
    for check in assets_def.check_specs:
        if "dagster_dbt/unique_id" in check.metadata:
            keys[check.metadata["dagster_dbt/unique_id"]] = check.asset_key
    return keys


def _failure_observation(key: dg.AssetKey, failure: DbtNodeFailure, skipped: int) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=key,
        metadata={
            "dbt_unique_id": failure.unique_id,
            "dbt_status": failure.status,
            "dbt_message": dg.MetadataValue.text(failure.message),
            "dbt_skipped_nodes": skipped,
        },
    )
