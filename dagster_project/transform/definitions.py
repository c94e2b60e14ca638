"""The transform domain's Definitions: the dbt project and its resource."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.lib import spark
from dagster_project.lib.config import JourneyConfig
from dagster_project.lib.dbt import dbt_executable
from dagster_project.transform.assets import DBT_PROJECT, journey_dbt


def build_definitions(config: JourneyConfig) -> dg.Definitions:
    """dbt on the configured engine: this venv's dbt and the environment's DuckDB target, or
    on ``warehouse.engine: spark`` the dbt that has dbt-spark (lib/spark.py) and the `spark`
    output of profiles.yml."""
    if config.warehouse.engine == "spark":
        executable = spark.dbt_executable()
        dbt = DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(executable or "dbt"), target="spark")
    else:
        dbt = DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable())
    return dg.Definitions(assets=[journey_dbt], resources={"dbt": dbt})
