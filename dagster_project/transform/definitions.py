"""The transform domain's Definitions: the dbt project and its resource."""

from __future__ import annotations

import dagster as dg

from dagster_project.lib.dbt import JourneyDbtCliResource
from dagster_project.transform.assets import DBT_PROJECT, journey_dbt


def build_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[journey_dbt], resources={"dbt": JourneyDbtCliResource(project_dir=DBT_PROJECT)})
