"""`journey report` and build_report: the scorecard page from a small warehouse.

Two warehouses: a hand-made one holding only the scorecard and ticket marts (three
months, a gap and an empty month), to check what the page shows; and the real one
`journey run` builds from the semantic-layer scenario, to check the command end to end.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import run_journey
from test_semantic_layer import build_scenario, lenient_config

from dagster_project.publish.report import KPIS, build_report, report_source

SCORECARD_COLUMNS = ["month_start", "nps", "nps_margin_of_error", *(k.column for k in KPIS if k.column != "nps")]


def _hand_made_marts(path: Path) -> Path:
    """Three months: January full, February with no surveys (null NPS), March empty but for churn."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        columns = ", ".join(f"{c} {'date' if c == 'month_start' else 'double'}" for c in SCORECARD_COLUMNS)
        con.execute(f"create table marts.mart_cx_scorecard_monthly ({columns})")
        january = {
            "month_start": date(2025, 1, 1),
            "nps": 30.0,
            "nps_margin_of_error": 12.5,
            "csat_pct": 81.0,
            "ces_pct": 64.0,
            "cart_abandonment_rate": 0.72,
            "call_abandonment_rate": 0.05,
            "avg_first_response_minutes": 95.0,
            "avg_resolution_hours": 20.0,
            "ticket_resolution_rate": 0.9,
            "positive_review_rate": 0.7,
            "negative_review_rate": 0.1,
            "churn_rate": 0.2,
            "retention_rate": 0.8,
            "repeat_order_rate": 0.3,
            "avg_historical_ltv": 123.45,
        }
        february = january | {
            "month_start": date(2025, 2, 1),
            "nps": None,
            "nps_margin_of_error": None,
            "churn_rate": 0.25,
            "retention_rate": 0.75,
        }
        march = dict.fromkeys(SCORECARD_COLUMNS) | {"month_start": date(2025, 3, 1), "churn_rate": 0.1}
        for row in (january, february, march):
            con.execute(
                f"insert into marts.mart_cx_scorecard_monthly values ({', '.join('?' * len(row))})",
                [row[c] for c in SCORECARD_COLUMNS],
            )
        con.execute(
            "create table marts.mart_support_tickets_daily as select * from (values "
            "(date '2025-01-03', 'CHAT', 4.0, 2), (date '2025-01-20', 'CHAT', 8.0, 1), "
            "(date '2025-01-05', 'EMAIL', 3000.0, 2), (date '2025-01-05', 'PHONE', 10.0, 1)) "
            "t(created_date, channel, first_response_minutes_sum, tickets_replied)"
        )
    finally:
        con.close()
    return path


def _chart_json(page: str, column: str) -> str:
    """The Plotly.newPlot call of one chart."""
    match = re.search(rf'Plotly\.newPlot\(\s*"chart-{column}",(.*?)\)\s*}};?\s*</script>', page, re.S)
    assert match, column
    return match.group(1)


def test_page_has_every_kpi_and_needs_no_network(tmp_path: Path) -> None:
    marts = _hand_made_marts(tmp_path / "journey_marts.duckdb")
    out = tmp_path / "serving" / "report.html"
    summary = build_report(marts, out, currency="EUR")
    assert summary.months == 3 and summary.latest_month == date(2025, 3, 1) and summary.path == out
    page = out.read_text(encoding="utf-8")
    for kpi in KPIS:
        assert f"<h3>{kpi.title}</h3>" in page, kpi.title
        assert f'id="chart-{kpi.column}"' in page, kpi.column
    # self-contained: plotly.js is inline (its bundle mentions URLs of map tiles and links
    # that these charts never load), and nothing else in the page points at a server
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert "<link" not in page.lower()
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
    bundle = max(scripts, key=len)
    assert len(bundle) > 3_000_000 and "plotly.js" in bundle[:2000].lower()
    rest = page.replace(bundle, "")
    assert not re.search(r"https?:|//[a-z0-9.-]+\.[a-z]{2,}/", rest, re.I), re.findall(r".{60}https?:.{60}", rest)
    assert not list(out.parent.glob(".report.html-*"))  # no staging file left behind


def test_reference_lines_and_values(tmp_path: Path) -> None:
    page = build_report(_hand_made_marts(tmp_path / "m.duckdb"), tmp_path / "r.html", currency="EUR").path.read_text()
    nps = _chart_json(page, "nps")
    assert "+50: excellent" in nps and "0: as many detractors as promoters" in nps
    assert '"y0":50.0' in nps.replace(" ", "") and '"y0":0.0' in nps.replace(" ", "")
    first_response = _chart_json(page, "avg_first_response_minutes")
    assert "chat target: 5 min" in first_response and "email target: 24 h" in first_response
    assert '"y0":5.0' in first_response.replace(" ", "") and '"y0":1440.0' in first_response.replace(" ", "")
    # per-channel means from the ticket mart's sums: chat January (4 + 8) / 3 = 4, email 3000 / 2 = 1500
    assert "chat tickets" in first_response and "email tickets" in first_response
    assert "phone tickets" not in first_response  # only the channels with a drawn target
    assert re.search(r'"name":\s*"chat tickets".*?"y":\s*\[4\.0\]', first_response, re.S)
    assert re.search(r'"name":\s*"email tickets".*?"y":\s*\[1500\.0\]', first_response, re.S)
    cart = _chart_json(page, "cart_abandonment_rate")
    assert "Baymard" in cart and '"y0":0.7' in cart.replace(" ", "")
    # the latest month's table: March has only churn; its change against February is shown as better
    assert "March 2025" in page
    assert "10.0 %" in page and "▼ from 25.0 %" in page
    # February's missing NPS is a gap (null), not a zero
    assert re.search(r'"name":\s*"NPS".*?"y":\s*\[30\.0,\s*null,\s*null\]', nps, re.S)


def _with_service_marts(path: Path) -> Path:
    """The hand-made marts plus the business-hours ticket columns, the backlog and the cohorts.

    Tickets: January 4 created, 2 calendar breaches, 1 in business hours (50 %, 25 %); February 2 created, 1 and 0
    (50 %, 0 %). Backlog: 5 open on 15 January only (nothing open on the 31st: January's month end is 0); on
    28 February 3 EMAIL (2 waiting on the team, oldest 30.5 h) and 2 CHAT (both on the team, 12 h): 5, 4 on the
    team; the latest day, 10 March, 1 CHAT: March (current) 1. Cohorts: January 4 customers, 1 and 2 back in
    months 1 and 2 (25 %, 50 %); February 2, 1 back in month 1 (50 %); March 1."""
    _hand_made_marts(path)
    con = duckdb.connect(str(path))
    try:
        con.execute("drop table marts.mart_support_tickets_daily")
        con.execute(
            "create table marts.mart_support_tickets_daily as select * from (values "
            "(date '2025-01-03', 'CHAT', 4.0, 2, 3, 2, 1), (date '2025-01-20', 'EMAIL', 8.0, 1, 1, 0, 0), "
            "(date '2025-02-05', 'EMAIL', 3000.0, 2, 2, 1, 0)) "
            "t(created_date, channel, first_response_minutes_sum, tickets_replied, tickets_created, "
            "sla_breaches, business_hours_sla_breaches)"
        )
        con.execute(
            "create table marts.mart_ticket_backlog_daily as select * from (values "
            "(date '2025-01-15', 'EMAIL', 5, 5, 100.0), (date '2025-02-28', 'EMAIL', 3, 2, 30.5), "
            "(date '2025-02-28', 'CHAT', 2, 2, 12.0), (date '2025-03-10', 'CHAT', 1, 0, 2.0)) "
            "t(backlog_date, channel, open_tickets, waiting_on_us_tickets, oldest_open_ticket_age_hours)"
        )
        con.execute(
            "create table marts.mart_customer_cohorts_monthly as select * from (values "
            "(date '2025-01-01', 0, 4, 4, 1.0, 60.0), (date '2025-01-01', 1, 4, 1, 0.25, 70.0), "
            "(date '2025-01-01', 2, 4, 2, 0.5, 90.0), (date '2025-02-01', 0, 2, 2, 1.0, 40.0), "
            "(date '2025-02-01', 1, 2, 1, 0.5, 55.0), (date '2025-03-01', 0, 1, 1, 1.0, 30.0)) "
            "t(cohort_month, months_since_first_order, cohort_customers, customers_active, retention_rate, "
            "cumulative_net_revenue_per_customer)"
        )
    finally:
        con.close()
    return path


def test_service_section_breaches_backlog_and_cohorts(tmp_path: Path) -> None:
    page = build_report(_with_service_marts(tmp_path / "m.duckdb"), tmp_path / "r.html", currency="EUR").path
    page = page.read_text()
    assert "<h2>Tickets and customers</h2>" in page
    assert "<h3>SLA breach rate: calendar and business hours</h3>" in page
    breaches = _chart_json(page, "sla_breach_rates")
    assert re.search(r'"name":\s*"calendar time".*?"y":\s*\[0\.5,\s*0\.5\]', breaches, re.S)
    assert re.search(r'"name":\s*"business hours".*?"y":\s*\[0\.25,\s*0\.0\]', breaches, re.S)
    assert "<h3>Ticket backlog at month end</h3>" in page
    backlog = _chart_json(page, "ticket_backlog")
    # stacked: waiting on the team 0, 4, 0 and on the contact 0, 1, 1 -> 0, 5, 1 at the month ends
    assert re.search(r'"name":\s*"waiting on the team".*?"y":\s*\[0,\s*4,\s*0\]', backlog, re.S)
    assert re.search(r'"name":\s*"waiting on the contact".*?"y":\s*\[0,\s*1,\s*1\]', backlog, re.S)
    assert '"30.5 h"' in backlog  # February's oldest open ticket
    assert "<h3>Cohort retention</h3>" in page
    grid = page[page.index("id='cohort_retention'") :]
    grid = grid[: grid.index("</section>")]
    rows = re.findall(r"<tr><td>(\w+ \d{4})</td><td class='num'>(\d+)</td>(.*?)</tr>", grid)
    assert [(cohort, size) for cohort, size, _ in rows] == [("Jan 2025", "4"), ("Feb 2025", "2"), ("Mar 2025", "1")]
    cells = [re.findall(r">(\d+ %)?</td>", cells) for _, _, cells in rows]
    assert cells == [["100 %", "25 %", "50 %"], ["100 %", "50 %", ""], ["100 %", "", ""]]
    assert "1 of 4 customers; cumulative net revenue per customer 70.00 EUR" in grid


def test_service_section_only_with_its_marts(tmp_path: Path) -> None:
    """The hand-made marts have a ticket mart without business-hours columns, no backlog and no cohorts."""
    page = build_report(_hand_made_marts(tmp_path / "m.duckdb"), tmp_path / "r.html").path.read_text()
    assert "Tickets and customers" not in page and "chart-sla_breach_rates" not in page
    assert "chart-ticket_backlog" not in page and "cohort_retention" not in page


def test_missing_scorecard_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(LookupError, match="mart_cx_scorecard_monthly"):
        build_report(empty, tmp_path / "r.html")
    with pytest.raises(FileNotFoundError):
        build_report(tmp_path / "absent.duckdb", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_source_prefers_the_published_snapshot(tmp_path: Path) -> None:
    warehouse, snapshot = tmp_path / "journey.duckdb", tmp_path / "serving" / "journey_marts.duckdb"
    assert report_source(snapshot, warehouse) == warehouse
    snapshot.parent.mkdir()
    snapshot.write_bytes(b"")
    assert report_source(snapshot, warehouse) == snapshot


@pytest.fixture(scope="module")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    landing = build_scenario(root / "landing")
    db = root / "warehouse" / "journey.duckdb"
    db.parent.mkdir()
    result = run_journey(
        "run",
        "--landing",
        str(landing),
        "--warehouse",
        str(db),
        "--config",
        str(lenient_config(root / "orchestration.yaml")),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return db


def test_journey_report_command(built_warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "scorecard.html"
    result = run_journey("report", "--warehouse", str(built_warehouse), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Report: {out}" in result.stdout and "(4 months" in result.stdout
    page = out.read_text(encoding="utf-8")
    assert all(f"<h3>{kpi.title}</h3>" in page for kpi in KPIS)
    assert "January 2025 – April 2025" in page
    # the ticket and cohort marts are there: the business-hours breach chart and the cohort grid (January's
    # 2 customers, February's 1; contact 2 back in March, month 2 of January: 50 %)
    assert "<h3>SLA breach rate: calendar and business hours</h3>" in page and "<h3>Cohort retention</h3>" in page
    assert re.search(r"<tr><td>Jan 2025</td><td class='num'>2</td>.*?>50 %</td>", page)
    # the scenario's March NPS, (1 - 2) / 4 = -25, is the value drawn for March
    assert re.search(
        r'"name":\s*"NPS".*?"y":\s*\[null,\s*33\.3333\d*,\s*-25\.0,\s*null\]', _chart_json(page, "nps"), re.S
    )
    # by default the page goes beside the published snapshot (serving/report.html)
    default = run_journey("report", "--warehouse", str(built_warehouse))
    assert default.returncode == 0, default.stdout + default.stderr
    assert (built_warehouse.parent / "serving" / "report.html").is_file()


def test_journey_report_without_a_warehouse_is_a_usage_error(tmp_path: Path) -> None:
    result = run_journey("report", "--warehouse", str(tmp_path / "nothing.duckdb"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "journey report: error: neither a published snapshot" in result.stderr
    assert "Traceback" not in result.stderr
