"""Benchmark of the predictive-LTV path at warehouse scale (default 1,000,000 customers).

Simulates an order table from the BG/NBD and Gamma-Gamma generative processes
themselves (CDNOW-like parameters, customers acquired evenly over two years),
loads it into an in-memory DuckDB table typed as the warehouse would type it,
then times the steps the ``mart_customer_ltv`` asset runs: the DuckDB summary,
both fits and the predictions. Prints wall time and peak RSS per step, and the
fitted parameters next to the simulated ones as a sanity check.

Target (project brief): the four timed steps within 60 s and the whole process
within 2 GB peak RSS on a 2-core machine.

    python bench/bench_ltv.py [--customers 1000000] [--seed 7] [--compare-pandas]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

import duckdb
import numpy as np
import pandas as pd

from dagster_project.marts.ltv import (
    BgNbdParams,
    GammaGammaParams,
    fit_bgnbd,
    fit_gamma_gamma,
    predict,
    summarise_orders,
    summarise_orders_sql,
)

T = TypeVar("T")

AS_OF = date(2025, 6, 30)
# Customers are acquired evenly over this many days before AS_OF.
ACQUISITION_DAYS = 730
# True parameters of the simulation: Fader-Hardie's CDNOW estimates in days
# (alpha 4.414 weeks x 7) and dollars, i.e. a shop whose customers buy a few
# times a year and mostly lapse.
TRUE_BG = BgNbdParams(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)
TRUE_GG = GammaGammaParams(p=6.25, q=3.74, v=15.44)
# Share of purchases that come as two orders on the same day (a forgotten item).
SAME_DAY_SECOND_ORDER_SHARE = 0.05


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size of this process in MB (Linux)."""
    with open("/proc/self/statm") as fh:
        current_pages = int(fh.read().split()[1])
    current = current_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return current, peak


def _timed(label: str, step: Callable[[], T], timings: dict[str, float]) -> T:
    start = time.perf_counter()
    result = step()
    elapsed = time.perf_counter() - start
    timings[label] = elapsed
    current, peak = _rss_mb()
    print(f"{label:<22} {elapsed:8.2f} s   rss {current:7.0f} MB   peak {peak:7.0f} MB", flush=True)
    return result


def simulate_orders(n_customers: int, seed: int) -> pd.DataFrame:
    """Orders of ``n_customers`` drawn from BG/NBD purchase timing and Gamma-Gamma spend.

    Each customer makes a first purchase at a uniform time in the acquisition
    window, then repeat purchases at Poisson rate lambda ~ Gamma(r, alpha) until
    the end of AS_OF, dropping out after each repeat purchase with probability
    p ~ Beta(a, b). Spend per purchase ~ Gamma(p, nu), nu ~ Gamma(q, v).
    Returns integer customer numbers, epoch microseconds and revenue.
    """
    rng = np.random.default_rng(seed)
    end_days = ACQUISITION_DAYS  # time axis in days, 0 = start of the acquisition window
    first = rng.uniform(0.0, end_days, n_customers)
    rate = rng.gamma(TRUE_BG.r, 1.0 / TRUE_BG.alpha, n_customers)
    dropout = rng.beta(TRUE_BG.a, TRUE_BG.b, n_customers)
    spend_rate = rng.gamma(TRUE_GG.q, 1.0 / TRUE_GG.v, n_customers)

    customers = [np.arange(n_customers)]
    times = [first]
    active = np.arange(n_customers)
    clock = first.copy()
    while active.size:
        clock[active] += rng.exponential(1.0 / np.maximum(rate[active], 1e-300))
        active = active[clock[active] < end_days]
        customers.append(active)
        times.append(clock[active])
        active = active[rng.random(active.size) >= dropout[active]]
    customer = np.concatenate(customers)
    when = np.concatenate(times)
    del customers, times

    second = rng.random(customer.size) < SAME_DAY_SECOND_ORDER_SHARE
    # the second order comes within the hour, without crossing midnight
    later = when[second] + rng.uniform(0, 1 / 24, second.sum())
    extra_when = np.minimum(later, np.floor(when[second]) + 0.999)
    customer = np.concatenate([customer, customer[second]])
    when = np.concatenate([when, extra_when])
    revenue = np.round(rng.gamma(TRUE_GG.p, 1.0 / spend_rate[customer]), 2)

    window_start = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC) + timedelta(days=1 - end_days)
    start_us = int(window_start.timestamp()) * 1_000_000
    return pd.DataFrame(
        {
            "customer_number": customer.astype("int64"),
            "ordered_us": start_us + (when * 86_400e6).astype("int64"),
            "net_revenue": revenue,
        }
    )


def load_orders(con: duckdb.DuckDBPyConnection, simulated: pd.DataFrame) -> int:
    """Create table ``orders`` typed as in the warehouse: VARCHAR id, TIMESTAMPTZ, DECIMAL money."""
    con.register("simulated", simulated)
    con.execute(
        """
        create table orders as
        select
            'C' || lpad(cast(customer_number as varchar), 8, '0') as customer_id,
            make_timestamp(ordered_us)::timestamptz as ordered_at,
            cast(net_revenue as decimal(18, 2)) as net_revenue
        from simulated
        """
    )
    con.unregister("simulated")
    return int(con.execute("select count(*) from orders").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--compare-pandas", action="store_true", help="also time summarise_orders on the orders in pandas"
    )
    args = parser.parse_args()

    setup: dict[str, float] = {}
    timings: dict[str, float] = {}
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    simulated = [_timed("simulate", lambda: simulate_orders(args.customers, args.seed), setup)]
    n_orders = _timed("load into duckdb", lambda: load_orders(con, simulated.pop()), setup)
    gc.collect()
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    print(f"{args.customers:,} customers, {n_orders:,} orders, duckdb threads {threads}")

    summary = _timed("summarise (duckdb)", lambda: summarise_orders_sql(con, "orders", AS_OF), timings)
    bg = _timed("fit BG/NBD", lambda: fit_bgnbd(summary), timings)
    gg = _timed("fit Gamma-Gamma", lambda: fit_gamma_gamma(summary), timings)
    predictions = _timed("predict 365 d", lambda: predict(summary, bg, gg), timings)

    current, peak = _rss_mb()
    total = sum(timings.values())
    print(f"{'total (timed steps)':<22} {total:8.2f} s   peak RSS of the process {peak:.0f} MB")
    repeat = int((summary["frequency"] > 0).sum())
    print(
        f"customers {len(summary):,}, repeat buyers {repeat:,}, "
        f"distinct (frequency, recency, T) {len(summary.groupby(['frequency', 'recency', 'T'])):,}"
    )
    print(f"BG/NBD fitted {bg}\n       true   {TRUE_BG}")
    print(f"Gamma-Gamma fitted {gg}\n            true   {TRUE_GG}")
    print(predictions.drop(columns="customer_id").describe().T.to_string())

    if args.compare_pandas:
        orders = con.execute("select * from orders").df()
        pandas_summary = _timed("summarise (pandas)", lambda: summarise_orders(orders, AS_OF), {})
        pd.testing.assert_frame_equal(pandas_summary, summary, check_dtype=False, rtol=1e-9)
        print("pandas summary == duckdb summary")


if __name__ == "__main__":
    main()
