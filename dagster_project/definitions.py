"""Dagster entry point: merges the small Definitions each domain builds. Nothing else lives here."""

from __future__ import annotations

import dagster as dg

from dagster_project.extract import definitions as extract
from dagster_project.lib.environment import resources_for
from dagster_project.marts import definitions as marts
from dagster_project.orchestration import definitions as orchestration
from dagster_project.publish import definitions as publish
from dagster_project.quality import definitions as quality
from dagster_project.transform import definitions as transform

domains = (
    extract.build_definitions(),
    transform.build_definitions(),
    marts.build_definitions(),
    quality.build_definitions(),
)
defs = dg.Definitions.merge(
    *domains,
    publish.build_definitions(*domains),  # downstream of every mart the domains above build
    orchestration.build_definitions(),
    dg.Definitions(resources=resources_for(), executor=dg.in_process_executor),
)
