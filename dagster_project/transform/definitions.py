"""The transform domain's Definitions: the dbt project and its resource."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.lib.dbt import dbt_executable
from dagster_project.transform.assets import DBT_PROJECT, journey_dbt


def build_definitions() -> dg.Definitions:
    dbt = DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=dbt_executable())
    return dg.Definitions(assets=[journey_dbt], resources={"dbt": dbt})
