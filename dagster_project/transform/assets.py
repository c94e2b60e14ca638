"""dbt models (staging, intermediate, journey, marts) as Dagster assets; dbt tests as asset checks.

One ``dbt build`` per run, with the run's ``as_of`` and every metric parameter of
``orchestration.yaml`` passed as ``--vars``: the SQL reads its parameters from
the same validated config as the Python assets.
"""


import json
import os
from datetime import date

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.lib.dbt import JourneyDbtTranslator, dbt_project
from dagster_project.lib.environment import JourneySettingsResource, WarehouseResource

DBT_PROJECT = dbt_project()


class DbtBuildConfig(dg.Config):
    as_of: str | None = None  # YYYY-MM-DD; default: the newest dt= day loaded


def newest_loaded_dt(warehouse: WarehouseResource) -> date | None:
    """The newest ``dt`` that delivered at least one file (the contract's default ``as_of``)."""
    with warehouse.connect() as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'audit' "
            "and table_name = 'load_counts'"
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = con.execute("select max(dt) from audit.load_counts where files > 0").fetchone()
    return row[0] if row else None


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
    """Build and test the dbt models selected for this run."""
    as_of = date.fromisoformat(config.as_of) if config.as_of else newest_loaded_dt(warehouse)
    if as_of is None:
        raise dg.Failure("Nothing has been loaded yet: materialize the raw extract assets first.")
    context.log.info(f"dbt build with as_of={as_of}")
    os.environ["JOURNEY_WAREHOUSE"] = warehouse.path
    dbt_vars = settings.config().dbt_vars(as_of)
    yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context).stream()
