"""dbt models (staging, intermediate, journey, marts) as Dagster assets; dbt tests as asset checks.

One ``dbt build`` per run, with the run's ``as_of`` and every metric parameter of
``orchestration.yaml`` passed as ``--vars``: the SQL reads its parameters from
the same validated config as the Python assets.
"""


import json
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.lib.dbt import JourneyDbtTranslator, dbt_project
from dagster_project.lib.environment import JourneySettingsResource, WarehouseResource

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
    os.environ["JOURNEY_WAREHOUSE"] = warehouse.path
    window = None
    if config.window_start:
        window = (date.fromisoformat(config.window_start), date.fromisoformat(config.window_end or config.window_start))
    dbt_vars = settings.config().dbt_vars(as_of, window)
    newest = warehouse.newest_loaded_dt()
    full_refresh = config.full_refresh or (newest is not None and as_of < newest)
    if full_refresh and not config.full_refresh:
        # the incremental models hold state as of a later day: rebuild them as known at as_of
        context.log.info(f"as_of {as_of} is before the newest loaded day {newest}: full refresh")
    args = dbt_build_args(dbt_vars, full_refresh, os.environ)
    target_path = None
    if config.parsed_target_path and Path(config.parsed_target_path).is_dir():
        target_path = Path(config.parsed_target_path)
    yield from dbt.cli(args, context=context, target_path=target_path).stream()
