"""`journey run` on a small generated landing zone: nothing lost, nothing personal in marts, checks pass."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT, run_journey

from dagster_project.lib.identity import normalise_phone


def _lines_per_partition(landing: Path) -> Counter[tuple[str, str, str]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for path in landing.rglob("*.jsonl*"):
        entity_dir = path.parent.parent
        key = (entity_dir.parent.name, entity_dir.name, path.parent.name.removeprefix("dt="))
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as handle:
            counts[key] += sum(1 for _ in handle)
    return counts


def _personal_values(landing: Path) -> tuple[set[str], set[str]]:
    """(substrings: emails and phones in every form, exact values: names) from the CRM contacts."""
    substrings, names = set(), set()
    for path in (landing / "crm" / "contacts").rglob("*.jsonl*"):
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                try:
                    props = json.loads(line).get("properties") or {}
                except (json.JSONDecodeError, AttributeError):
                    continue
                if not isinstance(props, dict):
                    continue
                for key in ("email", "phone"):
                    if isinstance(props.get(key), str) and len(props[key].strip()) > 5:
                        substrings.add(props[key].strip().lower())
                if isinstance(props.get("phone"), str):
                    e164 = normalise_phone(props["phone"], props.get("country"))
                    if e164:
                        substrings.add(e164)
                for key in ("firstname", "lastname"):
                    if isinstance(props.get(key), str) and props[key].strip():
                        names.add(props[key].strip().lower())
    return substrings, names


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("generated")
    landing, db = root / "landing", root / "warehouse.duckdb"
    made = run_journey(
        "generate",
        "--out",
        str(landing),
        "--customers",
        "400",
        "--days",
        "45",
        "--seed",
        "7",
        "--gzip",
        "--no-progress",
    )
    assert made.returncode == 0, made.stdout + made.stderr
    # the extract in a process of its own, as for a large window (runner.separate_extract);
    # the other end-to-end tests run it in the command's process
    config = root / "orchestration.yaml"
    project_yaml = (ROOT / "orchestration.yaml").read_text()
    assert "  memory_limit: 3GB" in project_yaml
    config.write_text(project_yaml.replace("  memory_limit: 3GB", "  separate_extract: always\n  memory_limit: 3GB"))
    result = run_journey("run", "--landing", str(landing), "--warehouse", str(db), "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stderr, result.stderr  # the extract's process is as quiet as the command
    return landing, db, result.stdout


def test_the_extract_ran_in_its_own_process(generated: tuple[Path, Path, str]) -> None:
    import dagster as dg

    from dagster_project.extract.definitions import EXTRACT_JOB_NAME
    from dagster_project.orchestration.plan import BUILD_JOB_NAME
    from dagster_project.orchestration.recovery import PID_TAG

    instance = dg.DagsterInstance.get()
    latest = {
        job: instance.get_runs(filters=dg.RunsFilter(job_name=job), limit=1)[0]
        for job in (EXTRACT_JOB_NAME, BUILD_JOB_NAME)
    }
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in latest.values())
    assert latest[EXTRACT_JOB_NAME].tags[PID_TAG] != latest[BUILD_JOB_NAME].tags[PID_TAG]
    assert "Time: extract" in generated[2]


def test_every_generated_line_is_loaded_or_quarantined(generated: tuple[Path, Path, str]) -> None:
    landing, db, _ = generated
    expected = _lines_per_partition(landing)
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select source, entity, dt::varchar, lines_read, rows_loaded, rows_quarantined "
            "from audit.load_counts where lines_read > 0"
        ).fetchall()
    finally:
        con.close()
    loaded = {(s, e, dt): read for s, e, dt, read, _, _ in rows}
    assert loaded == dict(expected)
    assert all(read == ok + bad for *_, read, ok, bad in rows)
    assert sum(bad for *_, bad in rows) > 0  # the generator's malformed lines were caught


def test_no_personal_data_anywhere_in_marts(generated: tuple[Path, Path, str]) -> None:
    landing, db, _ = generated
    substrings, names = _personal_values(landing)
    assert len(substrings) > 100 and len(names) > 50
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("create temp table personal (value varchar)")
        con.executemany("insert into personal values (?)", [(v,) for v in substrings])
        con.execute("create temp table personal_names (value varchar)")
        con.executemany("insert into personal_names values (?)", [(v,) for v in names])
        columns = con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        ).fetchall()
        for table, column in columns:
            text = f'lower(cast(m."{column}" as varchar))'
            leaks = con.execute(
                f'select {text} from marts."{table}" as m join personal on contains({text}, personal.value) '
                f'union all select {text} from marts."{table}" as m '
                f"join personal_names on {text} = personal_names.value limit 3"
            ).fetchall()
            assert not leaks, (table, column, leaks)
    finally:
        con.close()


def test_every_mart_has_rows_and_no_blocking_check_failed(generated: tuple[Path, Path, str]) -> None:
    _, db, report = generated
    assert "Result: success" in report and " 0 failed" in report
    con = duckdb.connect(str(db), read_only=True)
    try:
        for table in (
            "fct_customer_journey",
            "dim_customers",
            "mart_nps_daily",
            "mart_csat_daily",
            "mart_ces_daily",
            "mart_cart_abandonment_daily",
            "mart_call_center_daily",
            "mart_support_tickets_daily",
            "mart_agent_daily",
            "mart_reviews_daily",
            "mart_customer_ltv",
            "mart_churn_monthly",
            "mart_repeat_purchase_monthly",
            "mart_cx_scorecard_monthly",
        ):
            assert con.execute(f"select count(*) from marts.{table}").fetchone()[0] > 0, table
        found = con.execute("select distinct touchpoint from marts.fct_customer_journey").fetchall()
        touchpoints = {t for (t,) in found}
        assert touchpoints == {
            "signed_up",
            "order_placed",
            "order_refunded",
            "ticket_opened",
            "ticket_closed",
            "survey_answered",
            "call_answered",
            "call_missed",
            "cart_started",
            "checkout_started",
            "cart_abandoned",
            "review_posted",
        }
    finally:
        con.close()
