"""The publish domain's Definitions: one asset downstream of every mart the other domains build."""

from __future__ import annotations

import dagster as dg

from dagster_project.publish.assets import build_publish_asset
from dagster_project.publish.catalog import mart_sources


def build_definitions(*upstream: dg.Definitions) -> dg.Definitions:
    """The marts are found in the assets of ``upstream`` (the other domains' Definitions): every
    asset whose table lives in schema ``marts``, so a new mart is published without a change here."""
    specs = [
        spec
        for defs in upstream
        for assets_def in (defs.assets or [])
        if isinstance(assets_def, dg.AssetsDefinition)
        for spec in assets_def.specs
    ]
    return dg.Definitions(assets=[build_publish_asset(mart_sources(specs))])
