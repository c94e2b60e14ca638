"""Python marts: predictive customer lifetime value (BG/NBD + Gamma-Gamma) as ``marts.mart_customer_ltv``.

The heavy lifting stays in the warehouse: dbt sums counted orders per customer and
day (``intermediate.int_customer_purchase_days``, on DuckDB or Spark), DuckDB rolls
those up per customer as of the run's day (``ltv.summarise_purchase_days_sql``), and
only that one-row-per-customer frame comes into pandas for the fit. If the data cannot support a fit (too few repeat
buyers, e.g. a brand-new shop), the historical columns are still written and
the predictive ones are null, with the reason in the asset's metadata.
"""

import dagster as dg
import pandas as pd

from dagster_project.lib.environment import JourneySettingsResource, WarehouseResource
from dagster_project.marts import ltv, storage
from dagster_project.marts.ltv_checks import with_intervals
from dagster_project.orchestration.selection import failed_checks_upstream

LTV_TABLE = "marts.mart_customer_ltv"
# Column descriptions: shown in the Dagster UI and published as column comments (publish/).
LTV_COLUMNS = dg.TableSchema(
    columns=[
        dg.TableColumn(
            "customer_id",
            "VARCHAR",
            description="CRM contact id of a customer with at least one counted order.",
            constraints=dg.TableColumnConstraints(nullable=False, unique=True),
        ),
        dg.TableColumn("as_of_date", "DATE", description="Day the values are computed as of (UTC)."),
        dg.TableColumn("first_order_at", "TIMESTAMP", description="First counted order, UTC."),
        dg.TableColumn("last_order_at", "TIMESTAMP", description="Last counted order up to as_of_date, UTC."),
        dg.TableColumn("orders", "BIGINT", description="Counted (not cancelled) orders up to as_of_date."),
        dg.TableColumn(
            "historical_revenue", "DOUBLE", description="Net revenue of the counted orders to date, reporting currency."
        ),
        dg.TableColumn("avg_order_value", "DOUBLE", description="historical_revenue / orders, reporting currency."),
        dg.TableColumn(
            "repeat_purchase_days", "BIGINT", description="Distinct purchase days minus one (BG/NBD frequency)."
        ),
        dg.TableColumn(
            "recency_days", "BIGINT", description="Days from the first to the last purchase day (BG/NBD recency)."
        ),
        dg.TableColumn(
            "tenure_days", "BIGINT", description="Days from the first purchase day to as_of_date (BG/NBD T)."
        ),
        dg.TableColumn(
            "probability_alive",
            "DOUBLE",
            description="BG/NBD probability that the customer is still active; null when no fit.",
        ),
        dg.TableColumn(
            "expected_purchases_365d",
            "DOUBLE",
            description="BG/NBD expected purchase days in the next 365 days; null when no fit.",
        ),
        dg.TableColumn(
            "predicted_clv_365d",
            "DOUBLE",
            description="Expected purchases x Gamma-Gamma expected order value over the next 365 days, "
            "reporting currency; null when no fit.",
        ),
        # 80 % intervals: parametric bootstrap over the fitted parameters (marts/ltv_checks.py, docs/service-marts.md)
        dg.TableColumn(
            "expected_purchases_365d_p10",
            "DOUBLE",
            description="10th percentile of expected_purchases_365d, parameter bootstrap; null when no fit.",
        ),
        dg.TableColumn(
            "expected_purchases_365d_p90",
            "DOUBLE",
            description="90th percentile of expected_purchases_365d over the parameter bootstrap.",
        ),
        dg.TableColumn(
            "predicted_clv_365d_p10",
            "DOUBLE",
            description="10th percentile of predicted_clv_365d, parameter bootstrap, reporting currency.",
        ),
        dg.TableColumn(
            "predicted_clv_365d_p90",
            "DOUBLE",
            description="90th percentile of predicted_clv_365d, parameter bootstrap, reporting currency.",
        ),
    ]
)


class LtvConfig(dg.Config):
    as_of: str | None = None  # YYYY-MM-DD; default: the newest dt= day loaded


def build_ltv_frame(
    summary: pd.DataFrame, as_of: str, horizon_days: int = ltv.DEFAULT_HORIZON_DAYS
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Fit both models on ``summary`` and return the mart rows plus metadata (parameters or the reason).

    ``horizon_days`` is ``metrics.ltv_horizon_days``; the mart's prediction columns are named
    for 365 days, so the configuration accepts only 365 (lib/config.py) and any other value
    is refused here too rather than written under those names."""
    if horizon_days != ltv.DEFAULT_HORIZON_DAYS:
        raise ValueError(f"the LTV columns are *_365d: a horizon of {horizon_days} days would be mislabelled")
    frame = summary[
        [
            "customer_id",
            "first_order_at",
            "last_order_at",
            "orders",
            "historical_revenue",
            "avg_order_value",
            "frequency",
            "recency",
            "T",
        ]
    ].copy()
    frame = frame.rename(columns={"frequency": "repeat_purchase_days", "recency": "recency_days", "T": "tenure_days"})
    for column in ("first_order_at", "last_order_at"):  # the warehouse keeps naive UTC timestamps
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    frame.insert(1, "as_of_date", pd.Timestamp(as_of).date())
    meta: dict[str, object] = {"customers": len(frame), "ltv_horizon_days": horizon_days}
    try:
        bg = ltv.fit_bgnbd(summary)
        gg = ltv.fit_gamma_gamma(summary)
        predicted = ltv.predict(summary, bg, gg, horizon_days=horizon_days)
    except ltv.LtvFitError as exc:
        for column in ("probability_alive", "expected_purchases_365d", "predicted_clv_365d"):
            frame[column] = float("nan")
        meta["fit"] = f"skipped: {exc}"
        return frame, meta
    frame["probability_alive"] = predicted["probability_alive"].to_numpy()
    frame["expected_purchases_365d"] = predicted["expected_purchases_365d"].to_numpy()
    frame["predicted_clv_365d"] = predicted["predicted_clv_365d"].to_numpy()
    meta |= {
        "fit": "ok",
        "bgnbd_r": bg.r,
        "bgnbd_alpha_days": bg.alpha,
        "bgnbd_a": bg.a,
        "bgnbd_b": bg.b,
        "gamma_gamma_p": gg.p,
        "gamma_gamma_q": gg.q,
        "gamma_gamma_v": gg.v,
    }
    return frame, meta


@dg.asset(
    key=dg.AssetKey(["marts", "mart_customer_ltv"]),
    group_name="marts_commerce",
    deps=[dg.AssetKey(["intermediate", "int_customer_purchase_days"])],
    kinds={"python", "duckdb"},  # the fit reads and writes through DuckDB on either engine
    metadata={"dagster/table_name": LTV_TABLE, "dagster/column_schema": LTV_COLUMNS},
    output_required=False,  # not written when a blocking check upstream failed in this run
)
def mart_customer_ltv(
    context: dg.AssetExecutionContext,
    config: LtvConfig,
    warehouse: WarehouseResource,
    settings: JourneySettingsResource,
):
    """One row per customer with at least one counted order: historical value to date (net revenue,
    reporting currency) and BG/NBD + Gamma-Gamma predictions for the next 365 days
    (probability_alive, expected_purchases_365d, predicted_clv_365d; the horizon is
    metrics.ltv_horizon_days, recorded as `ltv_horizon_days` in the metadata), fitted on all customers
    as of `as_of`. Predictions are null, with the reason in this asset's metadata, when the data cannot
    support a fit (fewer than 10 repeat buyers). Not rebuilt when a dbt test of ERROR severity on
    its input failed earlier in the same run (the previous table stays)."""
    blocked_by = failed_checks_upstream(context)
    if blocked_by:
        context.log.error(f"mart_customer_ltv not built: blocking check(s) failed upstream: {', '.join(blocked_by)}")
        return
    as_of = warehouse.resolve_as_of(config.as_of)
    with warehouse.tables() as con:  # the engine's tables (DuckDB's, or Spark's files)
        summary = ltv.summarise_purchase_days_sql(con, ltv.PURCHASE_DAYS, as_of)
        frame, meta = build_ltv_frame(summary, as_of.isoformat(), settings.config().metrics.ltv_horizon_days)
        if meta["fit"] != "ok":
            context.log.warning(f"mart_customer_ltv: predictions left null ({meta['fit']})")
        frame = with_intervals(frame, summary, meta, settings.config().metrics.ltv_interval_draws)
        con.register("ltv_frame", frame)
        storage.replace_table(warehouse, con, LTV_TABLE, "ltv_frame")  # ordered by customer_id
        con.unregister("ltv_frame")
    yield dg.MaterializeResult(metadata={**meta, "as_of": as_of.isoformat(), "dagster/row_count": len(frame)})
