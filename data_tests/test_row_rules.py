"""The generic test `row_rules` (dbt_project/macros/test_row_rules.sql) on a mart whose rows break each kind of rule.

mart_customer_cohorts_monthly declares not_null on every column and four ranges, one of
them bounded by another column (customers_active in [0, cohort_customers]). The table is
created by hand in an empty warehouse with five rows: one valid, and one for each way to
fail. `dbt test` must fail with four failing rows, each named by the first rule it breaks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")
TEST = "row_rules_mart_customer_cohorts_monthly"


def test_row_rules_fail_each_broken_row_once_and_name_its_rule(tmp_path: Path) -> None:
    warehouse = tmp_path / "rules.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute("""
        create table marts.mart_customer_cohorts_monthly as select * from (values
            (date '2025-01-01', 0, date '2025-01-01', 3, 3, 4, 40.0, 40.0, 13.3333, 1.0),
            (date '2025-01-01', 1, date '2025-02-01', 3, 2, 2, 20.0, 60.0, 20.0, 1.5),
            (date '2025-01-01', 2, date '2025-03-01', 3, 5, 5, 50.0, 110.0, 36.6667, 0.5),
            (date '2025-01-01', 3, date '2025-04-01', 3, 1, null, 10.0, 120.0, 40.0, 0.3333),
            (date '2025-01-01', 4, date '2025-05-01', 3, 0, 0, 0.0, 120.0, 40.0, null)
        ) as t(cohort_month, months_since_first_order, activity_month, cohort_customers, customers_active,
               orders, net_revenue, cumulative_net_revenue, cumulative_net_revenue_per_customer, retention_rate)
    """)
    con.close()
    target = tmp_path / "target"
    result = subprocess.run(
        [DBT, "test", "--select", TEST, "--profiles-dir", ".", "--target-path", str(target)],
        cwd=ROOT / "dbt_project",
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"JOURNEY_WAREHOUSE": str(warehouse), "DO_NOT_TRACK": "1"},
    )
    assert result.returncode == 1, result.stdout[-3000:]
    results = json.loads((target / "run_results.json").read_text())["results"]
    [node] = [r for r in results if r["unique_id"].startswith("test.") and TEST in r["unique_id"]]
    assert (node["status"], node["failures"]) == ("fail", 4)
    compiled = next((target / "compiled").rglob(f"{TEST}.sql")).read_text()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        failed = sorted(row[0] for row in con.execute(compiled).fetchall())
    finally:
        con.close()
    assert failed == [
        "customers_active not between 0 and cohort_customers",
        "orders is null",
        "retention_rate is null",
        "retention_rate not between 0 and 1",
    ]
