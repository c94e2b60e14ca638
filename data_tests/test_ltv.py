"""Tests of the predictive-LTV arithmetic (dagster_project/marts/ltv.py).

The anchor is Fader and Hardie's CDNOW sample: the day-based summary must match
their published per-customer summary, and the fits must reproduce their
published BG/NBD and Gamma-Gamma parameters within 1 %. The rest are worked by
hand: a few orders summarised, closed forms of P(alive) and expected spend,
and the degenerate inputs the asset has to survive.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime

from dagster_project.marts import ltv
from dagster_project.marts.ltv import (
    CDNOW_CALIBRATION_END,
    BgNbdParams,
    GammaGammaParams,
    LtvFitError,
    cdnow_orders,
    expected_purchases,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    predict,
    probability_alive,
    summarise_orders,
    summarise_orders_sql,
)

# Published CDNOW estimates. BG/NBD: Fader, Hardie & Lee (2005), Marketing
# Science 24(2), time in weeks; alpha in days = 7 x weeks. Gamma-Gamma: Fader &
# Hardie note 025.
PUBLISHED_BG = {"r": 0.243, "alpha_weeks": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.44}
REL_TOL = 0.01
# Round numbers for the hand-worked prediction formulas.
HAND_BG = BgNbdParams(r=1.0, alpha=1.0, a=1.0, b=2.0)
HAND_GG = GammaGammaParams(p=6.0, q=4.0, v=15.0)


def _lifetimes_dataset(name: str) -> Path:
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / name


def _orders(rows: list[tuple[str | None, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series([r[0] for r in rows], dtype="str"),
            "ordered_at": pd.to_datetime([r[1] for r in rows], utc=True),
            "net_revenue": [r[2] for r in rows],
        }
    )


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return summarise_orders(cdnow_orders(), CDNOW_CALIBRATION_END)


@pytest.fixture(scope="module")
def cdnow_fit(cdnow_summary: pd.DataFrame) -> tuple[BgNbdParams, GammaGammaParams]:
    return fit_bgnbd(cdnow_summary), fit_gamma_gamma(cdnow_summary)


# Summaries --------------------------------------------------------------------

AS_OF = date(2025, 3, 5)
HAND_ORDERS = [
    # customer A: three orders on two UTC days (1 March twice, 4 March once)
    ("A", "2025-03-01T10:00:00Z", 10.0),
    ("A", "2025-03-01T18:00:00Z", 5.0),
    ("A", "2025-03-04T09:00:00Z", 20.0),
    # exactly midnight after as_of: outside the run (CONTRACT §4)
    ("A", "2025-03-06T00:00:00Z", 99.0),
    # customer B: one order, 01:30 in Warsaw on 4 March = 23:30 UTC on 3 March
    ("B", "2025-03-04T01:30:00+02:00", 7.5),
    # customer C: only after as_of, so no row at all
    ("C", "2025-03-07T12:00:00Z", 50.0),
    # no customer (unmatched identity): ignored
    (None, "2025-03-02T12:00:00Z", 1000.0),
]


def _check_hand_summary(summary: pd.DataFrame) -> None:
    assert summary["customer_id"].tolist() == ["A", "B"]
    a, b = summary.iloc[0], summary.iloc[1]
    # A: purchase days 1 Mar and 4 Mar -> frequency = 2 days - 1 = 1;
    # recency = 4 - 1 = 3 days; T = as_of 5 Mar - 1 Mar = 4 days;
    # monetary = mean of repeat days = 20 (the first day's 10 + 5 is excluded);
    # 3 orders, 35 revenue, 35 / 3 per order.
    assert (a["frequency"], a["recency"], a["T"]) == (1, 3, 4)
    assert a["monetary_value"] == pytest.approx(20.0)
    assert a["orders"] == 3
    assert a["historical_revenue"] == pytest.approx(35.0)
    assert a["avg_order_value"] == pytest.approx(35.0 / 3)
    assert a["first_order_at"] == pd.Timestamp("2025-03-01T10:00:00Z")
    assert a["last_order_at"] == pd.Timestamp("2025-03-04T09:00:00Z")
    # B: one purchase on 3 March (UTC) -> frequency 0, recency 0,
    # T = 5 - 3 = 2 days, monetary 0 by definition; 1 order of 7.5.
    assert (b["frequency"], b["recency"], b["T"]) == (0, 0, 2)
    assert b["monetary_value"] == 0.0
    assert (b["orders"], b["historical_revenue"], b["avg_order_value"]) == (1, 7.5, 7.5)
    assert b["first_order_at"] == pd.Timestamp("2025-03-03T23:30:00Z")


def test_summarise_orders_by_hand() -> None:
    summary = summarise_orders(_orders(HAND_ORDERS), AS_OF)
    assert tuple(summary.columns) == ltv.SUMMARY_COLUMNS
    _check_hand_summary(summary)


def test_summarise_orders_ignores_the_timezone_the_timestamps_are_shown_in() -> None:
    orders = _orders(HAND_ORDERS)
    shown_in_tokyo = orders.assign(ordered_at=orders["ordered_at"].dt.tz_convert("Asia/Tokyo"))
    pd.testing.assert_frame_equal(summarise_orders(shown_in_tokyo, AS_OF), summarise_orders(orders, AS_OF))


@pytest.mark.parametrize("column_type", ["timestamptz", "timestamp"])
def test_summarise_orders_sql_by_hand(column_type: str) -> None:
    con = duckdb.connect()
    # A session time zone far from UTC must not move any purchase to another day.
    con.execute("set TimeZone = 'America/Los_Angeles'")
    con.execute(f"create table orders (customer_id varchar, ordered_at {column_type}, net_revenue decimal(18, 2))")
    for customer_id, ordered_at, revenue in HAND_ORDERS:
        utc = pd.Timestamp(ordered_at).tz_convert("UTC")
        literal = utc.isoformat() if column_type == "timestamptz" else utc.tz_localize(None).isoformat()
        con.execute(f"insert into orders values (?, ?::{column_type}, ?)", [customer_id, literal, revenue])
    summary = summarise_orders_sql(con, "orders", AS_OF)
    assert tuple(summary.columns) == ltv.SUMMARY_COLUMNS
    _check_hand_summary(summary)
    via_query = summarise_orders_sql(con, "(select * from orders where net_revenue < 30)", AS_OF)
    assert via_query["customer_id"].tolist() == ["A", "B"]


def test_sql_and_pandas_summaries_agree_on_cdnow(cdnow_summary: pd.DataFrame) -> None:
    con = duckdb.connect()
    con.register("cdnow", cdnow_orders())
    from_sql = summarise_orders_sql(con, "cdnow", CDNOW_CALIBRATION_END)
    pd.testing.assert_frame_equal(from_sql, cdnow_summary, check_dtype=False, rtol=1e-12)


def test_cdnow_summary_matches_fader_hardie_published_summary(cdnow_summary: pd.DataFrame) -> None:
    """Their file gives x, t_x and T in weeks to 2 decimals and zbar (mean repeat spend) to cents.

    Matching it customer by customer shows that frequency counts repeat *days*
    (112 same-day second orders in the calibration period are not repeats) and
    that T runs to the calibration end date (272 days for a 1 January buyer).
    """
    published = pd.read_csv(_lifetimes_dataset("cdnow_customers_summary_with_transactions.csv"))
    published = published.rename(columns={"T": "T_weeks"}).assign(customer_id=lambda p: p["ID"].astype(str))
    both = cdnow_summary.merge(published, on="customer_id", validate="one_to_one")
    assert len(both) == 2357
    assert (both["frequency"] == both["x"]).all()
    assert np.allclose(both["recency"] / 7, both["t_x"], atol=0.005 + 1e-9)
    assert np.allclose(both["T"] / 7, both["T_weeks"], atol=0.005 + 1e-9)
    assert np.allclose(both["monetary_value"], both["zbar"], atol=0.005 + 1e-9)
    assert both.loc[both["customer_id"] == "1", "T"].item() == 272


# Fits -------------------------------------------------------------------------


def test_cdnow_bgnbd_reproduces_published_parameters(cdnow_fit: tuple[BgNbdParams, GammaGammaParams]) -> None:
    bg, _ = cdnow_fit
    assert bg.r == pytest.approx(PUBLISHED_BG["r"], rel=REL_TOL)
    assert bg.alpha / 7 == pytest.approx(PUBLISHED_BG["alpha_weeks"], rel=REL_TOL)
    assert bg.a == pytest.approx(PUBLISHED_BG["a"], rel=REL_TOL)
    assert bg.b == pytest.approx(PUBLISHED_BG["b"], rel=REL_TOL)


def test_cdnow_gamma_gamma_reproduces_published_parameters(
    cdnow_fit: tuple[BgNbdParams, GammaGammaParams],
) -> None:
    _, gg = cdnow_fit
    assert gg.p == pytest.approx(PUBLISHED_GG["p"], rel=REL_TOL)
    assert gg.q == pytest.approx(PUBLISHED_GG["q"], rel=REL_TOL)
    assert gg.v == pytest.approx(PUBLISHED_GG["v"], rel=REL_TOL)


def test_fits_and_predictions_agree_with_lifetimes(
    cdnow_summary: pd.DataFrame, cdnow_fit: tuple[BgNbdParams, GammaGammaParams]
) -> None:
    """The reference implementation, on the same day-based data, to far tighter than 1 %."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bg, gg = cdnow_fit
    x, t_x, big_t = (cdnow_summary[c] for c in ("frequency", "recency", "T"))
    reference = BetaGeoFitter().fit(x, t_x, big_t).params_
    for name in ("r", "alpha", "a", "b"):
        assert getattr(bg, name) == pytest.approx(reference[name], rel=1e-4)
    repeat = cdnow_summary[(x > 0) & (cdnow_summary["monetary_value"] > 0)]
    reference_gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"]).params_
    for name in ("p", "q", "v"):
        assert getattr(gg, name) == pytest.approx(reference_gg[name], rel=1e-4)

    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series({"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b})
    ours = predict(cdnow_summary, bg, gg)
    np.testing.assert_allclose(
        ours["probability_alive"], fitter.conditional_probability_alive(x, t_x, big_t), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(
        ours["expected_purchases_365d"],
        fitter.conditional_expected_number_of_purchases_up_to_time(365, x, t_x, big_t),
        rtol=1e-7,
    )


@pytest.mark.parametrize(
    ("log_likelihood", "params", "data"),
    [
        (
            ltv._bgnbd_log_likelihood,
            np.array([0.3, 2.0, 0.8, 2.5]),
            tuple(
                ltv._Levels.of(np.array(column))
                for column in ([0.0, 0, 1, 2, 5], [0.0, 0, 3, 4, 9], [2.0, 8, 5, 6, 10])
            ),
        ),
        (
            ltv._gamma_gamma_log_likelihood,
            np.array([6.0, 3.7, 1.5]),
            (ltv._SpendData.of(np.array([1.0, 2, 7, 2]), np.array([0.5, 1, 3, 2])),),
        ),
    ],
)
def test_analytic_gradients_match_finite_differences(
    log_likelihood: Callable[..., tuple[np.ndarray, np.ndarray]],
    params: np.ndarray,
    data: tuple[object, ...],
) -> None:
    """The optimiser trusts these gradients; a wrong one would stop it early at a wrong point."""
    analytic = log_likelihood(tuple(params), *data)[1].sum(axis=1)
    numeric = approx_fprime(params, lambda p: log_likelihood(tuple(p), *data)[0].sum(), 1e-7)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-5)


def test_likelihoods_per_distinct_value_equal_row_by_row() -> None:
    """Special functions are evaluated once per distinct value and gathered: every row must get
    exactly the number it gets when evaluated alone (same operations, same operands)."""
    x = np.array([0.0, 3, 1, 3, 0, 1, 8])
    t_x = np.array([0.0, 9, 4, 9, 0, 2, 30])
    big_t = np.array([5.0, 31, 12, 40, 31, 12, 31])
    m = np.array([0.7, 1.2, 0.4, 1.2, 2.5, 0.4, 1.0])
    bg_params = (0.3, 2.0, 0.8, 2.5)
    gg_params = (6.0, 3.7, 1.5)
    bg_ell, bg_grad = ltv._bgnbd_log_likelihood(bg_params, *(ltv._Levels.of(c) for c in (x, t_x, big_t)))
    gg_ell, gg_grad = ltv._gamma_gamma_log_likelihood(gg_params, ltv._SpendData.of(x[x > 0], m[x > 0]))
    for row in range(len(x)):
        alone = ltv._bgnbd_log_likelihood(bg_params, *(ltv._Levels.of(c[row : row + 1]) for c in (x, t_x, big_t)))
        assert alone[0][0] == bg_ell[row]
        np.testing.assert_array_equal(alone[1][:, 0], bg_grad[:, row])
    for row, (x_row, m_row) in enumerate(zip(x[x > 0], m[x > 0], strict=True)):
        alone = ltv._gamma_gamma_log_likelihood(gg_params, ltv._SpendData.of(np.array([x_row]), np.array([m_row])))
        assert alone[0][0] == gg_ell[row]
        np.testing.assert_array_equal(alone[1][:, 0], gg_grad[:, row])


# Degenerate input -------------------------------------------------------------


def _summary(frequency: list[int], monetary: list[float] | None = None) -> pd.DataFrame:
    x = np.asarray(frequency)
    return pd.DataFrame(
        {
            "customer_id": [str(i) for i in range(len(x))],
            "frequency": x,
            "recency": x * 10,
            "T": np.full(len(x), 200),
            "monetary_value": monetary if monetary is not None else np.where(x > 0, 20.0, 0.0),
        }
    )


def test_bgnbd_refuses_data_without_repeat_buyers() -> None:
    with pytest.raises(LtvFitError, match="repeat buyer"):
        fit_bgnbd(_summary([0] * 500))


def test_bgnbd_refuses_too_few_customers() -> None:
    with pytest.raises(LtvFitError, match="at least"):
        fit_bgnbd(_summary([0, 1, 2, 0, 3]))


def test_bgnbd_refuses_data_that_cannot_identify_it() -> None:
    # Every repeat buyer made 3 repeat purchases in their first 5 days and none
    # in the 195 days since: the likelihood keeps rising as the dropout
    # probability goes to 1 and the purchase rate to infinity.
    summary = _summary([0] * 30 + [3] * 30).assign(recency=lambda s: np.where(s["frequency"] > 0, 5, 0))
    with pytest.raises(LtvFitError, match="edge of the parameter space|did not converge"):
        fit_bgnbd(summary)


def test_bgnbd_without_dropouts_predicts_like_the_nbd() -> None:
    """The opposite extreme is a legitimate limit, not an error.

    When every repeat buyer is still buying at the end (recency = T), the
    dropout probability goes to 0 (a -> 0, b large) and BG/NBD becomes the NBD:
    P(alive) = 1 and E[purchases in h] = (r + x) / (alpha + T) * h.
    """
    summary = _summary([0] * 30 + [3] * 30).assign(recency=lambda s: np.where(s["frequency"] > 0, 200, 0))
    bg = fit_bgnbd(summary)
    predictions = predict(summary, bg, HAND_GG)
    nbd = (bg.r + summary["frequency"]) / (bg.alpha + summary["T"]) * 365
    np.testing.assert_allclose(predictions["probability_alive"], 1.0, atol=1e-6)
    np.testing.assert_allclose(predictions["expected_purchases_365d"], nbd, rtol=1e-3)


def test_gamma_gamma_refuses_too_few_repeat_buyers_with_positive_spend() -> None:
    # 12 repeat buyers, but only 4 with positive mean spend (the rest refunded everything).
    summary = _summary([2] * 12 + [0] * 50, [30.0, 40.0, 50.0, 60.0] + [0.0] * 8 + [0.0] * 50)
    with pytest.raises(LtvFitError, match="at least 10 repeat buyers"):
        fit_gamma_gamma(summary)


def test_gamma_gamma_refuses_identical_spend() -> None:
    with pytest.raises(LtvFitError, match="edge of the parameter space|did not converge"):
        fit_gamma_gamma(_summary([1, 2, 3, 4] * 10, [25.0] * 40))


def test_summarise_orders_requires_the_order_columns() -> None:
    with pytest.raises(ValueError, match="net_revenue"):
        summarise_orders(_orders(HAND_ORDERS).drop(columns="net_revenue"), AS_OF)


# Predictions ------------------------------------------------------------------


def test_probability_alive_by_hand() -> None:
    # x = 1, t_x = 1, T = 3: odds of having dropped out
    #   = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) = 1/2 * (4/2)**2 = 2,
    # so P(alive) = 1 / (1 + 2) = 1/3. A one-time buyer (x = 0) is alive by construction.
    alive = probability_alive(HAND_BG, np.array([1.0, 0.0]), np.array([1.0, 0.0]), np.array([3.0, 30.0]))
    np.testing.assert_allclose(alive, [1 / 3, 1.0])


def test_expected_spend_by_hand() -> None:
    # x = 2, mean 10: p (v + x m) / (p x + q - 1) = 6 * (15 + 20) / (12 + 3) = 14.
    # x = 0: the population mean p v / (q - 1) = 6 * 15 / 3 = 30.
    # x = 2 with a net mean of -5 (refunds): m taken as 0 -> 6 * 15 / 15 = 6.
    spend = expected_spend(HAND_GG, np.array([2.0, 0.0, 2.0]), np.array([10.0, 0.0, -5.0]))
    np.testing.assert_allclose(spend, [14.0, 30.0, 6.0])
    assert HAND_GG.population_mean_spend == pytest.approx(30.0)


def test_expected_purchases_over_a_short_horizon_is_alive_times_posterior_rate() -> None:
    # Over a horizon h -> 0, E[purchases] ~ P(alive) * E[lambda | x, T] * h with the
    # gamma posterior mean E[lambda | x, T] = (r + x) / (alpha + T).
    bg = BgNbdParams(r=0.5, alpha=20.0, a=0.7, b=3.0)
    x, t_x, big_t = np.array([0.0, 1.0, 4.0]), np.array([0.0, 30.0, 90.0]), np.array([50.0, 100.0, 100.0])
    h = 1e-4
    expected = probability_alive(bg, x, t_x, big_t) * (bg.r + x) / (bg.alpha + big_t) * h
    np.testing.assert_allclose(expected_purchases(bg, h, x, t_x, big_t), expected, rtol=1e-3)


def test_expected_purchases_is_continuous_through_a_equal_1() -> None:
    # (a + b + x - 1) / (a - 1) is singular at a = 1 but the expectation is not.
    x, t_x, big_t = np.array([0.0, 2.0]), np.array([0.0, 10.0]), np.array([30.0, 30.0])
    at_one = expected_purchases(HAND_BG, 365, x, t_x, big_t)
    around = [
        expected_purchases(BgNbdParams(r=1.0, alpha=1.0, a=a, b=2.0), 365, x, t_x, big_t) for a in (0.9999, 1.0001)
    ]
    assert np.isfinite(at_one).all()
    np.testing.assert_allclose(at_one, np.mean(around, axis=0), rtol=1e-3)


def test_predictions_on_cdnow_are_finite_and_non_negative(
    cdnow_summary: pd.DataFrame, cdnow_fit: tuple[BgNbdParams, GammaGammaParams]
) -> None:
    bg, gg = cdnow_fit
    predictions = predict(cdnow_summary, bg, gg)
    assert list(predictions.columns) == [
        "customer_id",
        "probability_alive",
        "expected_purchases_365d",
        "expected_spend_per_purchase",
        "predicted_clv_365d",
    ]
    assert (predictions["customer_id"] == cdnow_summary["customer_id"]).all()
    values = predictions.drop(columns="customer_id").to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert predictions["probability_alive"].le(1).all()
    one_time = cdnow_summary["frequency"] == 0
    assert one_time.sum() == 1411
    assert (predictions.loc[one_time, "probability_alive"] == 1.0).all()
    assert predictions.loc[one_time, "expected_spend_per_purchase"].to_numpy() == pytest.approx(
        gg.population_mean_spend
    )
    np.testing.assert_allclose(
        predictions["predicted_clv_365d"],
        predictions["expected_purchases_365d"] * predictions["expected_spend_per_purchase"],
    )


def test_discounting_by_hand(cdnow_summary: pd.DataFrame, cdnow_fit: tuple[BgNbdParams, GammaGammaParams]) -> None:
    bg, gg = cdnow_fit
    # Within one 30-day step everything is discounted by (1 + rate) ** (-h / 365).
    plain = predict(cdnow_summary, bg, gg, horizon_days=30)
    discounted = predict(cdnow_summary, bg, gg, horizon_days=30, annual_discount_rate=0.1)
    np.testing.assert_allclose(
        discounted["predicted_clv_30d"], plain["predicted_clv_30d"] * 1.1 ** (-30 / 365), rtol=1e-12
    )
    # Over a year the discounted value is smaller, but by less than a full year's discount.
    year = predict(cdnow_summary, bg, gg)["predicted_clv_365d"]
    year_discounted = predict(cdnow_summary, bg, gg, annual_discount_rate=0.1)["predicted_clv_365d"]
    assert (year_discounted < year).all()
    assert (year_discounted > year / 1.1).all()


def test_compress_gives_distinct_rows_in_order_of_first_appearance() -> None:
    """The fit and the predictions work per distinct (x, t_x, T): rows, codes and weights."""
    x = np.array([1.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0])
    t_x = np.array([5.0, 0.0, 5.0, 9.0, 0.0, 9.0, 5.0])
    distinct, codes, counts = ltv._compress([x, t_x])
    assert [list(column) for column in distinct] == [[1.0, 0.0, 2.0, 1.0, 2.0], [5.0, 0.0, 9.0, 9.0, 5.0]]
    assert list(codes) == [0, 1, 0, 2, 1, 3, 4]
    assert list(counts) == [2.0, 2.0, 1.0, 1.0, 1.0]
