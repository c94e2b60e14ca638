"""The marts domain's Definitions: marts computed in Python (predictive LTV and its holdout check)."""

import dagster as dg

from dagster_project.marts.assets import mart_customer_ltv
from dagster_project.marts.ltv_checks import mart_ltv_model_checks


def build_definitions() -> dg.Definitions:
    return dg.Definitions(assets=[mart_customer_ltv, mart_ltv_model_checks])
