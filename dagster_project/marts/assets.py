"""Python marts: predictive customer lifetime value (BG/NBD + Gamma-Gamma) as ``marts.mart_customer_ltv``.

The heavy lifting stays in the warehouse: dbt sums counted orders per customer and
day (``intermediate.int_customer_purchase_days``, on DuckDB or Spark), DuckDB rolls
those up per customer as of the run's day (``ltv.summarise_purchase_days_sql``), and
only that one-row-per-customer frame comes into pandas for the fit. If the data cannot support a fit (too few repeat
buyers, e.g. a brand-new shop), the historical columns are still written and
the predictive ones are null, with the reason in the asset's metadata.
"""

from typing import TYPE_CHECKING

import dagster as dg
import duckdb

from dagster_project.lib.dbt import declared_table
from dagster_project.lib.environment import JourneySettingsResource, WarehouseResource
from dagster_project.marts import storage
from dagster_project.marts.ltv_checks import with_intervals
from dagster_project.orchestration.selection import failed_checks_upstream

if TYPE_CHECKING:
    import pandas as pd

# pandas and the model (marts/ltv.py: numpy, scipy) are imported by the functions that use
# them, as in ltv_checks.py: not with the definitions, which wait beside dbt in the command.

LTV_TABLE = "marts.mart_customer_ltv"
# The table as its dbt model declares it (models/marts/retention/mart_customer_ltv.yml: the
# description, and each column's type and description), shown in the Dagster UI and published
# as table and column comments (publish/). customer_id is the grain.
LTV_DECLARED = declared_table("mart_customer_ltv")
LTV_COLUMNS = dg.TableSchema(
    columns=[
        dg.TableColumn(c.name, c.type, c.description, dg.TableColumnConstraints(nullable=False, unique=True))
        if c.name == "customer_id"
        else c
        for c in LTV_DECLARED.columns.columns
    ]
)


# Every customer of the mart is a live CRM contact: an erased contact's id never reaches the
# marts (docs/metrics.md, "Erasure"). dbt's assert_no_erased_contact_id_in_marts cannot see
# this table during a build (it is written after dbt), so the asset checks its own rows.
LIVE_CUSTOMERS_CHECK = "customers_are_live_contacts"


def customers_not_live(con: duckdb.DuckDBPyConnection, rows: str) -> int:
    """Rows of ``rows`` (a relation with ``customer_id``) whose customer is not a live contact:
    not in ``intermediate.int_customers_resolvable`` (every contact not erased)."""
    return int(
        con.execute(
            f"select count(*) from {rows} where customer_id not in "
            "(select customer_id from intermediate.int_customers_resolvable)"
        ).fetchone()[0]
    )


class LtvConfig(dg.Config):
    as_of: str | None = None  # YYYY-MM-DD; default: the newest dt= day loaded


def build_ltv_frame(
    summary: "pd.DataFrame", as_of: str, horizon_days: int | None = None
) -> tuple["pd.DataFrame", dict[str, object]]:
    """Fit both models on ``summary`` and return the mart rows plus metadata (parameters or the reason).

    ``horizon_days`` is ``metrics.ltv_horizon_days``; the mart's prediction columns are named
    for 365 days, so the configuration accepts only 365 (lib/config.py) and any other value
    is refused here too rather than written under those names (None: the default, 365)."""
    import pandas as pd

    from dagster_project.marts import ltv

    if horizon_days is None:
        horizon_days = ltv.DEFAULT_HORIZON_DAYS
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
    description=LTV_DECLARED.description,
    metadata={"dagster/table_name": LTV_TABLE, "dagster/column_schema": LTV_COLUMNS},
    check_specs=[
        dg.AssetCheckSpec(
            LIVE_CUSTOMERS_CHECK,
            asset=dg.AssetKey(["marts", "mart_customer_ltv"]),
            description="Every customer_id is a live (not erased) CRM contact (ERROR: nothing is published)",
        )
    ],
    output_required=False,  # not written when a blocking check upstream failed in this run
)
def mart_customer_ltv(
    context: dg.AssetExecutionContext,
    config: LtvConfig,
    warehouse: WarehouseResource,
    settings: JourneySettingsResource,
):
    """Fit BG/NBD + Gamma-Gamma on every customer as of ``as_of`` and replace the mart whole
    (what it holds: the asset's description, from mart_customer_ltv.yml). The fit's
    parameters, or the reason predictions are null, and ``ltv_horizon_days`` go in the
    metadata. Nothing is written when a dbt test of ERROR severity on its input failed earlier
    in the same run."""
    from dagster_project.marts import ltv

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
        # the bootstrap's threads: the pipeline's thread budget, warehouse.threads (default: one per core)
        workers = int(warehouse.duckdb_config()["threads"])
        frame = with_intervals(frame, summary, meta, settings.config().metrics.ltv_interval_draws, workers)
        con.register("ltv_frame", frame)
        not_live = customers_not_live(con, "ltv_frame")
        storage.replace_table(warehouse, con, LTV_TABLE, "ltv_frame")  # ordered by customer_id
        con.unregister("ltv_frame")
    yield dg.MaterializeResult(
        metadata={**meta, "as_of": as_of.isoformat(), "dagster/row_count": len(frame)},
        check_results=[
            dg.AssetCheckResult(
                check_name=LIVE_CUSTOMERS_CHECK,
                passed=not_live == 0,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"failing_count": not_live},
            )
        ],
    )
