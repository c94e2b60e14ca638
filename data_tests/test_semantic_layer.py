"""The MetricFlow semantic layer (dbt_project/models/semantic) against a warehouse built by `journey run`.

The scenario (2025-01-02 .. 2025-04-15, as_of 2025-04-15, default 90-day churn window):
- contacts 1 and 3 (segment smb), contact 2 (segment consumer);
- counted orders: contact 1 on 01-10, contact 2 on 01-20 and 03-05, contact 3 on 02-15.
  Churn: February S = {1, 2} (active 01-31), E = {1, 2, 3}, N = {3}: churned 0, rate 0.
  March S = E = {1, 2, 3}: rate 0. April S = {1, 2, 3}, E on as_of 04-15 = {2, 3}
  (contact 1's 90 days ended 04-09), N = 0: churned 1, rate 1/3. January: S = 0, no rate;
- NPS: February 10 (smb), 9 (consumer), 3 (smb): p = 2, d = 1, n = 3 -> NPS 33.33;
  March 9, 5, 6, 8: p = 1, d = 2, n = 4 -> NPS -25. The mart holds these per segment and
  day (smb February alone is 0, consumer 100), so only re-aggregating the counts gives them;
- carts: February c-1 converts, c-2 is abandoned -> 1 / 2 = 0.5; March c-3 and c-5 are
  abandoned, c-4 converts -> 2 / 3;
- CSAT 5 and 2 in February (50 %), CES 6 in March (100 %), a 5-star review in March, a
  ticket in March first answered after 90 minutes and closed a day later, an answered call
  in April: so every scorecard KPI has at least one month with a value.

mf reads `<project>/target/semantic_manifest.json` and the dbt profile, so the test runs it
in a copy of the dbt project parsed with JOURNEY_WAREHOUSE pointing at the test warehouse
(the shared dbt_project/target belongs to the pipeline).
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import ROOT, run_journey
from landing_builder import LandingBuilder, call, contact, order, owner, product, review, survey, ticket, track

MF = str(Path(sys.executable).parent / "mf")
DBT = str(Path(sys.executable).parent / "dbt")
# the scorecard's KPI columns and the metric of the same name that must give the same value
SCORECARD_METRICS = [
    "nps",
    "csat_pct",
    "ces_pct",
    "cart_abandonment_rate",
    "call_abandonment_rate",
    "avg_first_response_minutes",
    "avg_resolution_hours",
    "ticket_resolution_rate",
    "positive_review_rate",
    "negative_review_rate",
    "churn_rate",
    "retention_rate",
    "repeat_order_rate",
]
# every KPI the semantic layer serves (besides the counts each measure also exposes)
KPI_METRICS = SCORECARD_METRICS + [
    "checkout_abandonment_rate",
    "cart_recovery_rate",
    "service_level_pct",
    "avg_speed_of_answer_seconds",
    "avg_handle_seconds",
    "first_call_resolution_rate",
    "sla_breach_rate",
    "cross_sell_rate",
    "upsell_rate",
    "avg_historical_ltv",
    "csat_avg_score",
    "ces_avg_score",
    "avg_review_stars",
    "agent_avg_handle_seconds",
]
# predicted CLV (sem_commerce.yml): its metric_time is the as_of day, not a month of activity
LTV_METRICS = ["avg_predicted_clv", "avg_expected_purchases", "expected_active_share", "predicted_clv_365d"]
# business hours, ticket lifecycle and cohorts (sem_service.yml, sem_service_lifecycle.yml): not in the scorecard, and
# the backlog and cohort ones are not sliced like the others (a level; a grid by months since the first order)
SERVICE_LIFECYCLE_METRICS = [
    "business_hours_sla_breach_rate",
    "avg_first_response_business_minutes",
    "avg_resolution_business_hours",
    "agent_resolution_rate",
    "agent_same_day_resolution_rate",
    "agent_reopen_rate",
    "backlog_open_tickets",
    "backlog_oldest_open_ticket_age_hours",
    "backlog_avg_open_ticket_age_hours",
    "cohort_retention_rate",
    "cohort_cumulative_revenue_per_customer",
]


def build_scenario(root: Path) -> Path:
    b = LandingBuilder(root)
    day0 = "2025-01-02"
    b.add("crm", "contacts", day0, contact("1", "2025-01-02 09:00", email="c1@example.com"))
    b.add("crm", "contacts", day0, contact("2", "2025-01-02 10:00", email="c2@example.com", segment="consumer"))
    b.add("crm", "contacts", day0, contact("3", "2025-01-02 11:00", email="c3@example.com"))
    b.add("crm", "products", day0, product("P-1", "2025-01-02 00:00", category="footwear", price="50.00"))
    b.add("crm", "owners", day0, owner("301", "ola@shop.example"))
    items = [("P-1", "50.00", "1")]
    for oid, cid, at in [
        ("901", "1", "2025-01-10 12:00"),
        ("902", "2", "2025-01-20 12:00"),
        ("903", "3", "2025-02-15 12:00"),
        ("904", "2", "2025-03-05 12:00"),
    ]:
        b.add("crm", "orders", at[:10], order(oid, cid, at, total="50.00", items=items))
    answers = [
        ("s1", "1", "2025-02-03 10:00", "NPS", "10"),
        ("s2", "2", "2025-02-03 11:00", "NPS", "9"),
        ("s3", "3", "2025-02-04 10:00", "NPS", "3"),
        ("s4", "1", "2025-03-03 10:00", "NPS", "9"),
        ("s5", "2", "2025-03-03 11:00", "NPS", "5"),
        ("s6", "3", "2025-03-04 10:00", "NPS", "6"),
        ("s7", "3", "2025-03-04 11:00", "NPS", "8"),
        ("s8", "1", "2025-02-05 10:00", "CSAT", "5"),
        ("s9", "2", "2025-02-05 11:00", "CSAT", "2"),
        ("s10", "3", "2025-03-06 10:00", "CES", "6"),
    ]
    for sid, cid, at, kind, value in answers:
        b.add("crm", "feedback_submissions", at[:10], survey(sid, cid, at, kind=kind, value=value))
    for n, day, converts, device in [
        (1, "2025-02-01", True, "desktop"),
        (2, "2025-02-02", False, "mobile"),
        (3, "2025-03-03", False, "desktop"),
        (4, "2025-03-04", True, "mobile"),
        (5, "2025-03-05", False, "mobile"),
    ]:
        b.add(
            "cart_events",
            "tracks",
            day,
            track(
                f"m{n}a",
                "Product Added",
                f"{day}T10:00:00+00:00",
                anonymous_id=f"a-{n}",
                cart_id=f"c-{n}",
                product_id="P-1",
                price=50.0,
                quantity=1,
                device=device,
            ),
        )
        if converts:
            b.add(
                "cart_events",
                "tracks",
                day,
                track(
                    f"m{n}b",
                    "Order Completed",
                    f"{day}T11:00:00+00:00",
                    anonymous_id=f"a-{n}",
                    cart_id=f"c-{n}",
                    order_id=f"ord_x{n}",
                    revenue=50.0,
                    total=50.0,
                    currency="EUR",
                    device=device,
                ),
            )
    b.add("reviews", "reviews", "2025-03-07", review("rv-1", "2025-03-07 08:00", stars=5))
    b.add(
        "crm",
        "tickets",
        "2025-03-11",
        ticket("55", "1", "2025-03-10 08:00", replied="2025-03-10 09:30", closed="2025-03-11 08:00"),
    )
    b.add("calls", "calls", "2025-04-15", call(7001, "2025-04-15 10:00"))
    return b.write()


def lenient_config(path: Path) -> Path:
    """The project's config with the quarantine threshold at 100 %: a one-line partition is
    never blocked by the share of its lines quarantined."""
    config = yaml.safe_load((ROOT / "orchestration.yaml").read_text())
    config["quality"]["quarantine_threshold"] = {"default": 1.0}
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("semantic")
    landing = build_scenario(root / "landing")
    db = root / "warehouse" / "journey.duckdb"
    db.parent.mkdir()
    config = str(lenient_config(root / "orchestration.yaml"))
    result = run_journey("run", "--landing", str(landing), "--warehouse", str(db), "--config", config)
    assert result.returncode == 0, result.stdout + result.stderr
    return db


@pytest.fixture(scope="module")
def mf_env(tmp_path_factory: pytest.TempPathFactory, warehouse: Path) -> dict[str, str]:
    """A parsed copy of the dbt project whose profile points at the test warehouse."""
    project = tmp_path_factory.mktemp("dbt_copy")
    source = ROOT / "dbt_project"
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(source / name, project / name)
    for name in ("models", "macros", "seeds", "tests"):
        shutil.copytree(source / name, project / name)
    env = os.environ.copy() | {
        "JOURNEY_WAREHOUSE": str(warehouse),
        "DBT_PROFILES_DIR": str(project),
        "DBT_PROJECT_DIR": str(project),
        "DO_NOT_TRACK": "1",
    }
    env.pop("JOURNEY_DBT_TARGET", None)  # the profile's default target: local
    parsed = subprocess.run(
        [DBT, "parse", "--quiet"], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert parsed.returncode == 0, parsed.stdout + parsed.stderr
    assert (project / "target" / "semantic_manifest.json").is_file()
    return env


def _mf(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MF, *args], cwd=env["DBT_PROJECT_DIR"], env=env, capture_output=True, text=True, timeout=300)


def _mf_by_month(env: dict[str, str], metrics: list[str], out: Path) -> dict[date, dict[str, float | None]]:
    result = _mf(
        env,
        "query",
        "--metrics",
        ",".join(metrics),
        "--group-by",
        "metric_time__month",
        "--order",
        "metric_time__month",
        "--csv",
        str(out),
        "--quiet",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows: dict[date, dict[str, float | None]] = {}
    with out.open(newline="") as handle:
        for row in csv.DictReader(handle):
            month = date.fromisoformat(row.pop("metric_time__month")[:10])
            rows[month] = {k: (float(v) if v not in ("", None) else None) for k, v in row.items()}
    return rows


def _sql_by_month(db: Path, sql: str) -> dict[date, float | None]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {month: value for month, value in con.execute(sql).fetchall()}
    finally:
        con.close()


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_validate_configs_against_the_warehouse(mf_env: dict[str, str]) -> None:
    result = _mf(mf_env, "validate-configs")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Successfully validated the semantics of built manifest (ERRORS: 0" in output
    # the data-warehouse half ran too: every semantic model, measure and metric queried the warehouse
    assert "Successfully validated metrics against data warehouse (ERRORS: 0" in output


def test_every_kpi_is_a_metric(mf_env: dict[str, str]) -> None:
    manifest = json.loads((Path(mf_env["DBT_PROJECT_DIR"]) / "target" / "semantic_manifest.json").read_text())
    names = {metric["name"] for metric in manifest["metrics"]}
    wanted = set(KPI_METRICS + SERVICE_LIFECYCLE_METRICS + LTV_METRICS)
    assert wanted <= names, sorted(wanted - names)


def test_nps_by_month_equals_the_marts(mf_env: dict[str, str], warehouse: Path, tmp_path: Path) -> None:
    mf = _mf_by_month(mf_env, ["nps"], tmp_path / "nps.csv")
    by_hand = _sql_by_month(
        warehouse,
        """
        select cast(date_trunc('month', response_date) as date),
               100.0 * (sum(promoters) - sum(detractors)) / sum(responses)
        from marts.mart_nps_daily group by 1""",
    )
    assert set(mf) == set(by_hand) == {date(2025, 2, 1), date(2025, 3, 1)}
    for month, value in by_hand.items():
        assert _same(mf[month]["nps"], value), month
    assert mf[date(2025, 2, 1)]["nps"] == pytest.approx(100 / 3)  # (2 - 1) / 3
    assert mf[date(2025, 3, 1)]["nps"] == pytest.approx(-25.0)  # (1 - 2) / 4


def test_cart_abandonment_by_month_equals_the_marts(mf_env: dict[str, str], warehouse: Path, tmp_path: Path) -> None:
    mf = _mf_by_month(mf_env, ["cart_abandonment_rate"], tmp_path / "carts.csv")
    by_hand = _sql_by_month(
        warehouse,
        """
        select cast(date_trunc('month', cart_date) as date),
               sum(carts_abandoned) / (sum(carts_converted) + sum(carts_abandoned))
        from marts.mart_cart_abandonment_daily group by 1""",
    )
    assert set(mf) == set(by_hand) == {date(2025, 2, 1), date(2025, 3, 1)}
    for month, value in by_hand.items():
        assert _same(mf[month]["cart_abandonment_rate"], value), month
    assert mf[date(2025, 2, 1)]["cart_abandonment_rate"] == pytest.approx(0.5)
    assert mf[date(2025, 3, 1)]["cart_abandonment_rate"] == pytest.approx(2 / 3)


def test_churn_by_month_equals_the_marts(mf_env: dict[str, str], warehouse: Path, tmp_path: Path) -> None:
    mf = _mf_by_month(mf_env, ["churn_rate", "retention_rate"], tmp_path / "churn.csv")
    by_hand = _sql_by_month(
        warehouse,
        """
        select month_start, sum(churned_customers) / nullif(sum(customers_at_start), 0)
        from marts.mart_churn_monthly group by 1""",
    )
    assert set(mf) == set(by_hand) == {date(2025, m, 1) for m in (1, 2, 3, 4)}
    for month, value in by_hand.items():
        assert _same(mf[month]["churn_rate"], value), month
    assert mf[date(2025, 1, 1)]["churn_rate"] is None  # nobody active before January
    assert [mf[date(2025, m, 1)]["churn_rate"] for m in (2, 3, 4)] == pytest.approx([0.0, 0.0, 1 / 3])
    assert mf[date(2025, 4, 1)]["retention_rate"] == pytest.approx(2 / 3)


def test_every_scorecard_kpi_equals_the_scorecard(mf_env: dict[str, str], warehouse: Path, tmp_path: Path) -> None:
    """All KPI metrics in one query (MetricFlow joins the semantic models on metric_time), each
    equal, month by month, to the scorecard mart's column of the same name."""
    mf = _mf_by_month(mf_env, KPI_METRICS, tmp_path / "all.csv")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        scorecard = con.execute(
            f"select month_start, {', '.join(SCORECARD_METRICS)} from marts.mart_cx_scorecard_monthly order by 1"
        ).fetchall()
    finally:
        con.close()
    assert {row[0] for row in scorecard} == set(mf)
    with_value = set()
    for month, *values in scorecard:
        for name, value in zip(SCORECARD_METRICS, values, strict=True):
            assert _same(mf[month][name], None if value is None else float(value)), (month, name)
            if value is not None:
                with_value.add(name)
    assert with_value == set(SCORECARD_METRICS)  # the scenario gives every KPI a value somewhere
    assert mf[date(2025, 2, 1)]["csat_pct"] == pytest.approx(50.0)
    assert mf[date(2025, 3, 1)]["avg_first_response_minutes"] == pytest.approx(90.0)
    assert mf[date(2025, 3, 1)]["avg_resolution_hours"] == pytest.approx(24.0)


def test_business_hours_ticket_metrics_by_month_equal_the_marts(
    mf_env: dict[str, str], warehouse: Path, tmp_path: Path
) -> None:
    """The March e-mail ticket follows the shipped office schedule (Monday-Friday 09:00-17:00 Warsaw, UTC+1 in
    March): created Monday 10 March 08:00 UTC = 09:00 local, answered 09:30 UTC, closed Tuesday 08:00 UTC = 09:00
    local. First response 90 business minutes (all in opening hours); resolution 8 business hours (Monday's whole
    day, none of Tuesday's yet) against 24 calendar hours; no breach of the 24 h e-mail target."""
    metrics = ["business_hours_sla_breach_rate", "avg_first_response_business_minutes", "avg_resolution_business_hours"]
    mf = _mf_by_month(mf_env, metrics, tmp_path / "business.csv")
    by_hand = _sql_by_month(
        warehouse,
        """
        select cast(date_trunc('month', created_date) as date),
               sum(business_hours_sla_breaches) / sum(tickets_created)
        from marts.mart_support_tickets_daily group by 1""",
    )
    assert set(mf) == set(by_hand) == {date(2025, 3, 1)}
    assert _same(mf[date(2025, 3, 1)]["business_hours_sla_breach_rate"], by_hand[date(2025, 3, 1)])
    assert mf[date(2025, 3, 1)] == pytest.approx(
        {
            "business_hours_sla_breach_rate": 0.0,
            "avg_first_response_business_minutes": 90.0,
            "avg_resolution_business_hours": 8.0,
        }
    )


def test_cohort_retention_by_months_since_first_order_equals_the_mart(
    mf_env: dict[str, str], warehouse: Path, tmp_path: Path
) -> None:
    """Cohorts: January {1, 2} (orders 01-10, 01-20), February {3} (02-15); contact 2 orders again on 03-05; as_of
    in April. Over both cohorts, month k = active / cohort customers: k 0 (2 + 1) / 3, k 1 0 / 3, k 2 (1 + 0) / 3
    (January's March, February's April), k 3 0 / 2 (January only). Cumulative revenue per customer, 50 an order:
    k 0 150 / 3, k 1 150 / 3, k 2 (150 + 50) / 3, k 3 150 / 2."""
    out = tmp_path / "cohorts.csv"
    result = _mf(
        mf_env,
        "query",
        "--metrics",
        "cohort_retention_rate,cohort_cumulative_revenue_per_customer",
        "--group-by",
        "cohort_cell__months_since_first_order",
        "--order",
        "cohort_cell__months_since_first_order",
        "--csv",
        str(out),
        "--quiet",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with out.open(newline="") as handle:
        mf = {
            int(row["cohort_cell__months_since_first_order"]): (
                float(row["cohort_retention_rate"]),
                float(row["cohort_cumulative_revenue_per_customer"]),
            )
            for row in csv.DictReader(handle)
        }
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        by_hand = {
            k: (float(r), float(v))
            for k, r, v in con.execute("""
            select months_since_first_order, sum(customers_active) / sum(cohort_customers),
                   sum(cumulative_net_revenue) / sum(cohort_customers)
            from marts.mart_customer_cohorts_monthly group by 1""").fetchall()
        }
    finally:
        con.close()
    assert set(mf) == set(by_hand) == {0, 1, 2, 3}
    for k, (rate, revenue) in by_hand.items():
        assert _same(mf[k][0], rate) and _same(mf[k][1], revenue), k
    assert [mf[k][0] for k in range(4)] == pytest.approx([1.0, 0.0, 1 / 3, 0.0])
    assert [mf[k][1] for k in range(4)] == pytest.approx([50.0, 50.0, 200 / 3, 75.0])


def test_predicted_clv_metrics_aggregate_the_ltv_mart(mf_env: dict[str, str], warehouse: Path, tmp_path: Path) -> None:
    """The scenario's three customers are too few for a fit, so the test writes predictions into
    mart_customer_ltv by hand (the metrics read whatever the Python asset wrote): contact 1
    (smb, first order January) CLV 100, 2 expected purchases, P(alive) 0.5; contact 2
    (consumer, January) 300, 4, 0.9; contact 3 (smb, February) no prediction.
    By first-order month: January customers_predicted 2, avg_predicted_clv (100 + 300) / 2 =
    200, avg_expected_purchases 3, expected_active_share 0.7; February none, so null.
    By segment: smb 100 (contact 1 alone), consumer 300."""
    con = duckdb.connect(str(warehouse))
    try:
        assert con.execute("select count(*) from marts.mart_customer_ltv").fetchone()[0] == 3
        con.execute("update marts.mart_customer_ltv set predicted_clv_365d = null, probability_alive = null")
        for customer, clv, purchases, alive in [("1", 100.0, 2.0, 0.5), ("2", 300.0, 4.0, 0.9)]:
            con.execute(
                "update marts.mart_customer_ltv set predicted_clv_365d = ?, expected_purchases_365d = ?, "
                "probability_alive = ? where customer_id = ?",
                [clv, purchases, alive, customer],
            )
    finally:
        con.close()
    metrics = ["avg_predicted_clv", "avg_expected_purchases", "expected_active_share", "customers_predicted"]
    out = tmp_path / "ltv.csv"

    def query(group_by: str) -> dict[str, dict[str, float | None]]:
        result = _mf(
            mf_env, "query", "--metrics", ",".join(metrics), "--group-by", group_by, "--csv", str(out), "--quiet"
        )
        assert result.returncode == 0, result.stdout + result.stderr
        with out.open(newline="") as handle:
            return {
                row.pop(group_by)[:10]: {k: (float(v) if v not in ("", None) else None) for k, v in row.items()}
                for row in csv.DictReader(handle)
            }

    cohorts = query("customer__first_order_at__month")
    assert set(cohorts) == {"2025-01-01", "2025-02-01"}
    assert cohorts["2025-01-01"] == pytest.approx(
        {
            "avg_predicted_clv": 200.0,
            "avg_expected_purchases": 3.0,
            "expected_active_share": 0.7,
            "customers_predicted": 2,
        }
    )
    assert cohorts["2025-02-01"]["customers_predicted"] == 0
    assert cohorts["2025-02-01"]["avg_predicted_clv"] is None
    segments = query("customer__segment")
    assert segments["smb"]["avg_predicted_clv"] == pytest.approx(100.0)
    assert segments["consumer"]["avg_predicted_clv"] == pytest.approx(300.0)


def test_the_ltv_mart_has_the_columns_its_dbt_model_declares(warehouse: Path) -> None:
    """mart_customer_ltv is written by a Python asset and declared to dbt (and so to MetricFlow)
    by mart_customer_ltv.yml: the table a run wrote has exactly the declared columns, in order,
    with the declared types."""
    from dagster_project.marts.assets import LTV_COLUMNS

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        written = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'mart_customer_ltv' order by ordinal_position"
        ).fetchall()
        declared = [
            (c.name, con.execute(f"select typeof(cast(null as {c.type}))").fetchone()[0]) for c in LTV_COLUMNS.columns
        ]
    finally:
        con.close()
    assert len(declared) == 17
    assert written == declared
