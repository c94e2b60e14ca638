"""The dbt unit tests (hand-worked numbers for every formula, in the .yml beside each model).

A production `dbt build` leaves them out (transform/assets.py); they run here, in CI, on
an empty warehouse: dbt needs every upstream relation to exist to know its columns, so
the models are first built with `--empty` (zero rows), then `dbt test` runs the unit tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.extract.loader import ensure_schemas
from dagster_project.lib.landing import ENTITIES

ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")


def _dbt(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"JOURNEY_WAREHOUSE": str(tmp_path / "unit.duckdb"), "DO_NOT_TRACK": "1"}
    return subprocess.run(
        [
            DBT,
            *args,
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--vars",
            json.dumps({"as_of": "2025-03-31"}),
        ],
        cwd=ROOT / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_every_dbt_unit_test_passes(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "unit.duckdb"))
    ensure_schemas(con, ENTITIES)
    con.close()
    built = _dbt(tmp_path, "build", "--empty", "--resource-type", "model", "--resource-type", "seed")
    assert built.returncode == 0, built.stdout[-4000:]
    tested = _dbt(tmp_path, "test", "--select", "test_type:unit")
    assert tested.returncode == 0, tested.stdout[-6000:]
    summary = [line for line in tested.stdout.splitlines() if "Done. PASS=" in line]
    assert summary, tested.stdout[-2000:]
    passed = int(summary[-1].split("PASS=")[1].split()[0])
    assert passed >= 23, summary[-1]  # every unit test ran (23 when this test was written)


def _compiled_test(tmp_path: Path, name: str, *extra: str, window: str | None = None) -> str:
    target = tmp_path / ("target-" + "-".join([window or "none", *extra]).replace("-", "_"))
    dbt_vars = {"as_of": "2025-03-31"} | ({"window_start": window} if window else {})
    result = subprocess.run(
        [
            DBT,
            "compile",
            "--select",
            name,
            *extra,
            "--profiles-dir",
            ".",
            "--target-path",
            str(target),
            "--log-path",
            str(tmp_path / "logs"),
            "--vars",
            json.dumps(dbt_vars),
        ],
        cwd=ROOT / "dbt_project",
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"JOURNEY_WAREHOUSE": str(tmp_path / "compile.duckdb"), "DO_NOT_TRACK": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:]
    (sql,) = list(target.rglob(f"{name}.sql"))
    return " ".join(sql.read_text().split())


def test_data_tests_of_incremental_runs_cover_the_rewritten_rows(tmp_path: Path) -> None:
    """macros/test_scope.sql: with a window, the big tables' generic tests look at rows from
    window_start minus the lookback on (7 days: 2025-03-24); a full refresh or a run without
    a window tests every row; a model without meta.test_scope_column is never restricted."""
    test = "unique_fct_customer_journey_journey_event_id"
    scoped = _compiled_test(tmp_path, test, window="2025-03-31")
    assert "where event_date >= (cast('2025-03-31' as date) + cast(-7 as bigint) * interval 1 day)" in scoped
    assert "where event_date" not in _compiled_test(tmp_path, test)
    assert "where event_date" not in _compiled_test(tmp_path, test, "--full-refresh", window="2025-03-31")
    unscoped = _compiled_test(tmp_path, "unique_dim_customers_customer_id", window="2025-03-31")
    assert 'from "compile"."marts"."dim_customers" where customer_id is not null' in unscoped


# Singular tests (tests/*.sql) on hand-made rows: the models are built empty, the rows a
# test reads are inserted by hand, and `dbt test` must report exactly the expected rows.


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("singular")
    con = duckdb.connect(str(folder / "unit.duckdb"))
    ensure_schemas(con, ENTITIES)
    con.close()
    built = _dbt(folder, "build", "--empty", "--resource-type", "model", "--resource-type", "seed")
    assert built.returncode == 0, built.stdout[-4000:]
    return folder


def _singular_failures(folder: Path, test: str, rows_sql: list[str], *extra: str) -> list[tuple]:
    """Run `test` on the rows `rows_sql` writes; the rows it returns (stored by dbt)."""
    con = duckdb.connect(str(folder / "unit.duckdb"))
    try:
        for statement in rows_sql:
            con.execute(statement)
    finally:
        con.close()
    result = _dbt(folder, "test", "--select", test, "--store-failures", *extra)
    assert "Runtime Error" not in result.stdout, result.stdout[-4000:]
    con = duckdb.connect(str(folder / "unit.duckdb"), read_only=True)
    try:
        return sorted(con.execute(f"select * from dbt_test__audit.{test}").fetchall())
    finally:
        con.close()


def test_fx_rate_test_names_each_missing_currency_and_month(empty_warehouse: Path) -> None:
    """Reporting currency EUR. Orders without a rate: two PLN orders of May 1997 and one
    JPY order of March 2025 (fx_rates_monthly has PLN but no JPY); an EUR order
    of 1997 has fx_rate 1 and a PLN order of March 2025 has its rate: neither is reported."""
    rows = [
        "delete from intermediate.int_orders_converted",
        "insert into intermediate.int_orders_converted (order_id, currency_code, order_date, fx_rate) values "
        "('a', 'PLN', '1997-05-10', null), ('b', 'PLN', '1997-05-31', null), ('c', 'JPY', '2025-03-02', null), "
        "('d', 'EUR', '1997-05-10', 1.0), ('e', 'PLN', '2025-03-02', 0.23)",
    ]
    failures = _singular_failures(empty_warehouse, "assert_fx_rate_exists_for_every_order_currency_month", rows)
    assert [(c, str(m), n) for c, m, n, _ in failures] == [("JPY", "2025-03-01", 1), ("PLN", "1997-05-01", 2)]
    assert failures[1][3] == "no exchange rate for PLN in 1997-05-01 (add it to seeds/fx_rates_monthly.csv)"


def test_sql_and_python_normalise_emails_alike(tmp_path: Path) -> None:
    """The dbt macro normalise_email and lib.identity.normalise_email give the same key:
    lower-cased, every surrounding whitespace character (tab, newline, no-break space, ideographic
    space...) removed, inner spaces kept, null when nothing is left."""
    from dagster_project.lib.identity import normalise_email

    cases = [
        "  A@B.COM \t",
        "\n\rAna@Example.com\u00a0",
        "\u3000bo@example.com\u2003\u200a",
        "a b@c.de ",
        " \t\u00a0",
        "plain@x.io",
    ]
    selects = " union all ".join(
        f'select {i} as n, {{{{ normalise_email("{" || ".join(f"chr({ord(c)})" for c in case)}") }}}} as e'
        for i, case in enumerate(cases)
    )
    result = _dbt(tmp_path, "show", "--inline", selects, "--output", "json", "--limit", "-1", "--log-format", "text")
    assert result.returncode == 0, result.stdout[-3000:]
    shown = json.loads(result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1])["show"]
    in_sql = [row["e"] for row in sorted(shown, key=lambda row: row["n"])]
    assert in_sql == [normalise_email(case) for case in cases]
    assert in_sql == ["a@b.com", "ana@example.com", "bo@example.com", "a b@c.de", None, "plain@x.io"]


def test_erased_contact_id_test_finds_every_survivor(empty_warehouse: Path) -> None:
    """Contact c9 (ana@) was erased, c1 (bo@) is live. The marts as the old code left them:
    c9's sign-up kept source_record_id 'c9' and its id-derived journey_event_id, and a stale
    dim_customers row still carries the hash of ana@ (and c9 as its customer_id). The live
    contact's rows and an order whose record id happens to be 'c9' are not findings."""
    signed_up = "md5('crm|signed_up|c9')"
    rows = [
        "delete from staging.stg_crm__contacts",
        "delete from marts.fct_customer_journey",
        "delete from marts.dim_customers",
        "insert into staging.stg_crm__contacts (contact_id, email, phone_e164, is_archived) values "
        "('c9', 'ana@example.com', '+48501000009', true), ('c1', 'bo@example.com', '+48501000001', false)",
        "insert into marts.fct_customer_journey (journey_event_id, customer_id, touchpoint, source_record_id) values "
        f"({signed_up}, null, 'signed_up', 'c9'), (md5('crm|signed_up|c1'), 'c1', 'signed_up', 'c1'), "
        "(md5('crm|order_placed|c9'), null, 'order_placed', 'c9')",
        "insert into marts.dim_customers (customer_id, email_sha256, phone_sha256) values "
        "('c9', sha256('ana@example.com'), null), ('c1', sha256('bo@example.com'), sha256('+48501000001'))",
    ]
    test = "assert_no_erased_contact_id_in_marts"
    assert _singular_failures(empty_warehouse, test, rows) == [
        ("dim_customers.customer_id", "c9", 1),
        ("dim_customers.email_sha256", "c9", 1),
        ("fct_customer_journey.journey_event_id (signed_up)", "c9", 1),
        ("fct_customer_journey.source_record_id (signed_up)", "c9", 1),
    ]
    # what the pipeline writes now: the erased sign-up without its id, no dim_customers row
    fixed = [
        "delete from marts.fct_customer_journey where touchpoint = 'signed_up' and source_record_id = 'c9'",
        "insert into marts.fct_customer_journey (journey_event_id, customer_id, touchpoint, source_record_id) "
        "values (md5('crm|signed_up|' || md5('c9|2025-03-01 09:00:00')), null, 'signed_up', null)",
        "delete from marts.dim_customers where customer_id = 'c9'",
    ]
    assert _singular_failures(empty_warehouse, test, fixed) == []


def _order_line(order_id: str, updated_at: str | None, total: str) -> str:
    return json.dumps(
        {
            "id": order_id,
            "createdAt": "2025-03-01T10:00:00Z",
            "updatedAt": updated_at,
            "archived": False,
            "properties": {
                "hs_currency_code": "EUR",
                "hs_total_price": total,
                "hs_refund_amount": "0",
                "hs_fulfillment_status": "fulfilled",
                "hs_source_store": "web",
            },
            "associations": {"contacts": {"results": [{"id": "1"}]}},
            "line_items": [],
        }
    )


def _raw_orders_sql(lines: list[tuple[str, str, int, str]]) -> list[str]:
    """Statements that make raw.crm__orders hold exactly these (dt, file, line, record) lines."""
    values = ", ".join(f"('{json.loads(r)['id']}', '{r}', '{dt}', '{path}', {n}, now())" for dt, path, n, r in lines)
    columns = "record_id, record, _dt, _file_path, _line_number, _loaded_at"
    return ["delete from raw.crm__orders", f"insert into raw.crm__orders ({columns}) values {values}"]


def test_same_updated_at_keeps_the_later_line_and_warns(empty_warehouse: Path) -> None:
    """Order o1 has two versions with the same updatedAt and totals 100.00 and 90.00, both
    exported on 2025-03-02: the one in the later file path (part-0002) wins, whatever its
    line number, and the WARN test lists o1 with 2 versions and the winning position. o2 was
    re-sent unchanged (same updatedAt, same values: no conflict); o3 has two different
    updatedAt (a normal change: no conflict). Within one file, the later line wins (o4)."""
    t = "2025-03-02T09:00:00Z"
    lines = [  # (dt, file, line, record)
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0002.jsonl", 1, _order_line("o1", t, "90.00")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 7, _order_line("o1", t, "100.00")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 1, _order_line("o2", t, "50.00")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0002.jsonl", 2, _order_line("o2", t, "50.00")),
        ("2025-03-01", "crm/orders/dt=2025-03-01/part-0001.jsonl", 1, _order_line("o3", "2025-03-01T09:00:00Z", "10")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 2, _order_line("o3", t, "20.00")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 3, _order_line("o4", t, "30.00")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 4, _order_line("o4", t, "35.00")),
    ]
    failures = _singular_failures(empty_warehouse, "assert_no_conflicting_order_versions", _raw_orders_sql(lines))
    assert [(f[0], str(f[1]), f[2], f[3], str(f[4]), f[5], f[6]) for f in failures] == [
        ("o1", "2025-03-02 09:00:00", 2, 2, "2025-03-02", "crm/orders/dt=2025-03-02/part-0002.jsonl", 1),
        ("o4", "2025-03-02 09:00:00", 2, 2, "2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 4),
    ]
    built = _dbt(
        empty_warehouse,
        "build",
        "--select",
        "stg_crm__order_versions",
        "--full-refresh",
        "--exclude-resource-type",
        "unit_test",
    )
    assert "ERROR=0" in built.stdout, built.stdout[-4000:]
    con = duckdb.connect(str(empty_warehouse / "unit.duckdb"), read_only=True)
    try:
        kept = con.execute(
            "select order_id, cast(total_amount as double) from staging.stg_crm__order_versions "
            "where is_latest_version order by 1"
        ).fetchall()
    finally:
        con.close()
    assert kept == [("o1", 90.0), ("o2", 50.0), ("o3", 20.0), ("o4", 35.0)]


def test_versions_without_updated_at_are_compared_as_one_moment(empty_warehouse: Path) -> None:
    """Lines without an updatedAt belong to one (unknown) moment per order, as in the
    ranking: o6's two lines without it (totals 40.00 and 45.00) are a conflict, the later
    line winning; o7's single line without it is compared with nothing; o8's two lines
    without it are equal (a re-send). Only moments with two or more lines are compared at
    all, so these are the cases where that shortcut could lose a conflict."""
    lines = [  # (dt, file, line, record)
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 1, _order_line("o6", None, "40.00")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 2, _order_line("o6", None, "45.00")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 3, _order_line("o7", None, "10.00")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 4, _order_line("o7", "2025-03-02T09:00:00Z", "11")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 5, _order_line("o8", None, "12.00")),
        ("2025-03-02", "crm/orders/dt=2025-03-02/part-0002.jsonl", 1, _order_line("o8", None, "12.00")),
    ]
    failures = _singular_failures(empty_warehouse, "assert_no_conflicting_order_versions", _raw_orders_sql(lines))
    assert [(f[0], f[1], f[2], f[3], str(f[4]), f[5], f[6]) for f in failures] == [
        ("o6", None, 2, 2, "2025-03-02", "crm/orders/dt=2025-03-02/part-0001.jsonl", 2),
    ]
