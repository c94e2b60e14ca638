"""The marts domain's Definitions: marts computed in Python (predictive LTV)."""

import dagster as dg

from dagster_project.marts.assets import mart_customer_ltv


def build_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[mart_customer_ltv])
