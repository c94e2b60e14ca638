"""Can the lifetime-value model be trusted on this shop's data? ``marts.mart_ltv_model_checks``
and the 80 % intervals of ``marts.mart_customer_ltv``.

Every run refits BG/NBD + Gamma-Gamma on the counted orders up to a cut-off
(``metrics.ltv_holdout_weeks``, default 26 weeks, before ``as_of``), forecasts each
customer's repeat purchase days from the cut-off to ``as_of`` and compares them with what
happened (``ltv.holdout_check``). The table keeps one set of rows per ``as_of``: the fitted
parameters, log-likelihoods, predicted against actual repeat purchases in total and per
calibration frequency bucket, the mean absolute error and the bias. When the relative error
of the total is above ``metrics.ltv_holdout_max_error`` the asset check
``ltv_holdout_error`` warns (it never blocks: a forecast can be off for a season and still
be the best one available). docs/service-marts.md explains the numbers.
"""

from datetime import date, timedelta
from typing import TYPE_CHECKING

import dagster as dg

from dagster_project.lib.environment import JourneySettingsResource, WarehouseResource
from dagster_project.marts import storage
from dagster_project.orchestration.selection import failed_checks_upstream

if TYPE_CHECKING:
    import pandas as pd

    from dagster_project.marts import ltv

# numpy, pandas, scipy and the model (marts/ltv.py) are imported by the functions that use
# them, not with the definitions: the `journey` command loads the definitions before dbt and
# then waits beside it, and these ~200 MB would wait with it (docs/decisions.md).

CHECKS_TABLE = "marts.mart_ltv_model_checks"
CHECK_NAME = "ltv_holdout_error"
INTERVAL_COLUMNS = (
    "expected_purchases_365d_p10",
    "expected_purchases_365d_p90",
    "predicted_clv_365d_p10",
    "predicted_clv_365d_p90",
)
CHECKS_COLUMNS = dg.TableSchema(
    columns=[
        dg.TableColumn("as_of_date", "DATE", description="Run's as_of: the holdout ends at its end (UTC)."),
        dg.TableColumn(
            "calibration_end_date", "DATE", description="Cut-off: the refit sees orders up to the end of it."
        ),
        dg.TableColumn(
            "holdout_days", "INTEGER", description="Days from the cut-off to as_of (ltv_holdout_weeks x 7)."
        ),
        dg.TableColumn(
            "frequency_bucket",
            "VARCHAR",
            description="'all', or the customers' repeat purchase days in calibration: 0 .. 6, '7+'.",
        ),
        dg.TableColumn(
            "customers", "BIGINT", description="Customers with a counted order by the cut-off, in the bucket."
        ),
        dg.TableColumn(
            "predicted_repeat_purchases",
            "DOUBLE",
            description="Sum of their BG/NBD expected repeat purchase days in the holdout, given history.",
        ),
        dg.TableColumn("actual_repeat_purchases", "DOUBLE", description="Their actual purchase days in the holdout."),
        dg.TableColumn("relative_error", "DOUBLE", description="(predicted - actual) / actual; null when actual is 0."),
        dg.TableColumn(
            "mean_absolute_error",
            "DOUBLE",
            description="Run level: mean over customers of |predicted - actual| holdout purchase days.",
        ),
        dg.TableColumn("bias", "DOUBLE", description="Run level: mean over customers of predicted - actual."),
        dg.TableColumn(
            "cumulative_predicted_repeat_purchases",
            "DOUBLE",
            description="Run level: repeat purchase days from first purchase to as_of, unconditional "
            "BG/NBD forecast of the cohort (the published tracking figure).",
        ),
        dg.TableColumn("cumulative_actual_repeat_purchases", "DOUBLE", description="Run level: the same, actual."),
        dg.TableColumn("bgnbd_r", "DOUBLE", description="BG/NBD r of the refit."),
        dg.TableColumn("bgnbd_alpha_days", "DOUBLE", description="BG/NBD alpha of the refit, days."),
        dg.TableColumn("bgnbd_a", "DOUBLE", description="BG/NBD a of the refit."),
        dg.TableColumn("bgnbd_b", "DOUBLE", description="BG/NBD b of the refit."),
        dg.TableColumn(
            "bgnbd_log_likelihood", "DOUBLE", description="BG/NBD log-likelihood at the refit (time in days)."
        ),
        dg.TableColumn(
            "gamma_gamma_p", "DOUBLE", description="Gamma-Gamma p of the refit; null when it cannot be fitted."
        ),
        dg.TableColumn("gamma_gamma_q", "DOUBLE", description="Gamma-Gamma q of the refit."),
        dg.TableColumn(
            "gamma_gamma_v", "DOUBLE", description="Gamma-Gamma v (gamma) of the refit, reporting currency."
        ),
        dg.TableColumn("gamma_gamma_log_likelihood", "DOUBLE", description="Gamma-Gamma log-likelihood at the refit."),
    ]
)


def with_intervals(
    frame: "pd.DataFrame", summary: "pd.DataFrame", meta: dict[str, object], draws: int, workers: int = 1
) -> "pd.DataFrame":
    """``frame`` (mart_customer_ltv rows, aligned with ``summary``) with the four 80 % interval
    columns: from ``ltv.prediction_intervals`` (on ``workers`` threads) when the fit in
    ``meta`` succeeded, else null (the reason goes to ``meta["intervals"]``)."""
    from dagster_project.marts import ltv

    frame = frame.copy()
    for column in INTERVAL_COLUMNS:
        frame[column] = float("nan")
    if meta.get("fit") != "ok":
        meta["intervals"] = "skipped: no fit"
        return frame
    bg = ltv.BgNbdParams(*(float(meta[k]) for k in ("bgnbd_r", "bgnbd_alpha_days", "bgnbd_a", "bgnbd_b")))
    gg = ltv.GammaGammaParams(*(float(meta[k]) for k in ("gamma_gamma_p", "gamma_gamma_q", "gamma_gamma_v")))
    try:
        bounds = ltv.prediction_intervals(
            summary, bg, gg, horizon_days=ltv.DEFAULT_HORIZON_DAYS, draws=draws, workers=workers
        )
    except ltv.LtvFitError as exc:
        meta["intervals"] = f"skipped: {exc}"
        return frame
    for column in INTERVAL_COLUMNS:
        frame[column] = bounds[column].to_numpy()
    meta["intervals"] = f"ok: parametric bootstrap, {draws} draws, seed {ltv.INTERVAL_SEED}"
    return frame


def checks_frame(check: "ltv.HoldoutCheck", as_of: date) -> "pd.DataFrame":
    """The table's rows for one run: the total ('all') and one per frequency bucket."""
    import numpy as np
    import pandas as pd

    rows = check.buckets.rename(
        columns={
            "bucket": "frequency_bucket",
            "predicted_purchases": "predicted_repeat_purchases",
            "actual_purchases": "actual_repeat_purchases",
        }
    )
    actual = rows["actual_repeat_purchases"].to_numpy()
    predicted = rows["predicted_repeat_purchases"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(actual > 0, (predicted - actual) / np.where(actual > 0, actual, 1.0), np.nan)
    gg = check.gg
    out = pd.DataFrame(
        {
            "as_of_date": as_of,
            "calibration_end_date": check.calibration_end,
            "holdout_days": check.holdout_days,
            "frequency_bucket": rows["frequency_bucket"],
            "customers": rows["customers"].astype("int64"),
            "predicted_repeat_purchases": predicted,
            "actual_repeat_purchases": actual,
            "relative_error": relative,
            "mean_absolute_error": check.mean_absolute_error,
            "bias": check.bias,
            "cumulative_predicted_repeat_purchases": check.cumulative_predicted,
            "cumulative_actual_repeat_purchases": check.cumulative_actual,
            "bgnbd_r": check.bg.r,
            "bgnbd_alpha_days": check.bg.alpha,
            "bgnbd_a": check.bg.a,
            "bgnbd_b": check.bg.b,
            "bgnbd_log_likelihood": check.bgnbd_log_likelihood,
            "gamma_gamma_p": gg.p if gg else np.nan,
            "gamma_gamma_q": gg.q if gg else np.nan,
            "gamma_gamma_v": gg.v if gg else np.nan,
            "gamma_gamma_log_likelihood": check.gamma_gamma_log_likelihood if gg else np.nan,
        }
    )
    return out


def holdout_verdict(check: "ltv.HoldoutCheck | None", max_error: float, reason: str = "") -> dg.AssetCheckResult:
    """WARN when the total's relative error is above ``max_error`` or the check could not run."""
    key = dg.AssetKey(["marts", "mart_ltv_model_checks"])
    if check is None:
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"reason": reason},
        )
    error = check.relative_error
    passed = error is not None and abs(error) <= max_error
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "relative_error": float("nan") if error is None else error,
            "max_error": max_error,
            "predicted": check.predicted_total,
            "actual": check.actual_total,
            "mean_absolute_error": check.mean_absolute_error,
            "bias": check.bias,
        },
    )


@dg.asset(
    key=dg.AssetKey(["marts", "mart_ltv_model_checks"]),
    group_name="marts_commerce",
    deps=[dg.AssetKey(["intermediate", "int_customer_purchase_days"])],
    kinds={"python", "duckdb"},
    metadata={"dagster/table_name": CHECKS_TABLE, "dagster/column_schema": CHECKS_COLUMNS},
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=dg.AssetKey(["marts", "mart_ltv_model_checks"]),
            description="Holdout error of the LTV model above metrics.ltv_holdout_max_error (WARN, never blocks)",
        )
    ],
    output_required=False,
)
def mart_ltv_model_checks(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, settings: JourneySettingsResource
):
    """Holdout check of the LTV model, one set of rows per as_of: BG/NBD + Gamma-Gamma refitted on the
    counted orders up to metrics.ltv_holdout_weeks (26) before as_of, their forecast of each customer's
    repeat purchase days from that cut-off to as_of against what happened, in total ('all') and per
    calibration frequency bucket, with parameters, log-likelihoods, mean absolute error and bias. The
    check ltv_holdout_error warns when |predicted - actual| / actual of the total is above
    metrics.ltv_holdout_max_error (0.15), or when the refit is impossible (too little history)."""
    from dagster_project.marts import ltv

    blocked_by = failed_checks_upstream(context)
    if blocked_by:
        context.log.error(
            f"mart_ltv_model_checks not built: blocking check(s) failed upstream: {', '.join(blocked_by)}"
        )
        return
    metrics = settings.config().metrics
    as_of = warehouse.resolve_as_of(None)
    calibration_end = as_of - timedelta(weeks=metrics.ltv_holdout_weeks)
    with warehouse.tables() as con:  # the engine's tables (DuckDB's, or Spark's files)
        calibration = ltv.summarise_purchase_days_sql(con, ltv.PURCHASE_DAYS, calibration_end)
        holdout = ltv.holdout_purchase_days_sql(con, ltv.PURCHASE_DAYS, calibration, calibration_end, as_of)
        try:
            check = ltv.holdout_check(calibration, holdout, calibration_end, (as_of - calibration_end).days)
        except ltv.LtvFitError as exc:
            context.log.warning(f"mart_ltv_model_checks: no holdout check ({exc})")
            # the table exists even without a check (the publish step copies every mart), with no rows for as_of
            columns = ", ".join(f"{c.name} {c.type}" for c in CHECKS_COLUMNS.columns)
            con.execute(f"create temp table ltv_checks_none ({columns})")
            storage.replace_day(warehouse, con, CHECKS_TABLE, "ltv_checks_none", "as_of_date", as_of)
            yield dg.MaterializeResult(metadata={"check": f"skipped: {exc}", "as_of": as_of.isoformat()})
            yield holdout_verdict(None, metrics.ltv_holdout_max_error, f"skipped: {exc}")
            return
        rows = checks_frame(check, as_of)
        con.register("ltv_checks_frame", rows)
        storage.replace_day(warehouse, con, CHECKS_TABLE, "ltv_checks_frame", "as_of_date", as_of)
        con.unregister("ltv_checks_frame")
    yield dg.MaterializeResult(
        metadata={
            "as_of": as_of.isoformat(),
            "calibration_end": calibration_end.isoformat(),
            "relative_error": float("nan") if check.relative_error is None else check.relative_error,
            "dagster/row_count": len(rows),
        }
    )
    yield holdout_verdict(check, metrics.ltv_holdout_max_error)
