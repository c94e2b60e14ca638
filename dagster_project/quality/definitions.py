"""The quality domain's Definitions: the quarantine summary (the checks live on the extract assets)."""

import dagster as dg

from dagster_project.quality.assets import quarantine_summary


def build_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[quarantine_summary])
