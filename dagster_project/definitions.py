"""Dagster entry point: merges the small Definitions each domain builds. Nothing else lives here.

``defs`` is what ``dagster dev`` and the daemon load: the project for the configuration
of this process's environment (lib/environment.py). The ``journey`` command builds its
own with :func:`build_defs` for the paths given on its command line.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from dagster_project.extract import definitions as extract
from dagster_project.lib.config import JourneyConfig
from dagster_project.lib.environment import config_file, journey_config, resources_for
from dagster_project.marts import definitions as marts
from dagster_project.orchestration import definitions as orchestration
from dagster_project.publish import definitions as publish
from dagster_project.quality import definitions as quality
from dagster_project.transform import definitions as transform


def build_defs(config: JourneyConfig, config_path: Path) -> dg.Definitions:
    """Every domain's Definitions for ``config`` (loaded from ``config_path``), merged."""
    domains = (
        extract.build_definitions(config),
        transform.build_definitions(config),
        marts.build_definitions(),
        quality.build_definitions(),
    )
    domains += (
        publish.build_definitions(*domains),  # downstream of every mart the domains above build
        dg.Definitions(resources=resources_for(config, config_path), executor=dg.in_process_executor),
    )
    # the build job and the sensors, which plan each build on the asset graph of the domains
    return dg.Definitions.merge(*domains, orchestration.build_definitions(config, *domains))


defs = build_defs(journey_config(), config_file())
