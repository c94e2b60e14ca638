"""Jobs that span domains: the build of everything downstream of the raw layer."""

from __future__ import annotations

import dagster as dg

BUILD_JOB_NAME = "build_warehouse"


def build_definitions() -> dg.Definitions:
    build_job = dg.define_asset_job(
        BUILD_JOB_NAME,
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups(
            "raw_crm", "raw_calls", "raw_cart_events", "raw_reviews"
        ),
        description="Build and test every model, mart and check downstream of the raw layer.",
    )
    return dg.Definitions(jobs=[build_job])
