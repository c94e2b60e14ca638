"""The extract domain's Definitions: raw assets per landing entity and their job."""

from __future__ import annotations

import dagster as dg

from dagster_project.extract.assets import build_extract_assets
from dagster_project.lib.config import JourneyConfig

EXTRACT_JOB_NAME = "extract_landing"


def build_definitions(config: JourneyConfig) -> dg.Definitions:
    assets = build_extract_assets(config)
    job = dg.define_asset_job(
        EXTRACT_JOB_NAME,
        selection=dg.AssetSelection.assets(*assets),
        description="Load a range of dt= days of every landing entity into the raw layer.",
        partitions_def=assets[0].partitions_def,
        # no op_retry_policy: only a transient error retries (lib/environment.py transient_retry)
    )
    return dg.Definitions(assets=assets, jobs=[job])
