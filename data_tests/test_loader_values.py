"""Every value a staging model casts is checked by the loader (vars.landing_fields): one bad value
is one quarantined line with its reason, the rest of the file loads, and the books balance."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import duckdb
import pytest
from landing_builder import LandingBuilder, call, contact, order, review, survey, ticket, track, unix

from dagster_project.extract.loader import load_partition
from dagster_project.lib.landing import ENTITIES, entity

DT = "2025-03-02"


def _with(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    target = out
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[keys[-1]] = value
    return out


_ORDER = order("o1", "1", "2025-03-02 09:00", total="10.00", items=[("P-1", "5.00", "2")])
_CALL = call(7, "2025-03-02 09:00")
_TRACK = track("m1", "Product Added", "2025-03-02T09:00:00Z", cart_id="c1", price=5.0, quantity=2)
_SURVEY = survey("s1", "1", "2025-03-02 09:00")
_REVIEW = review("r1", "2025-03-02 09:00", stars=4)
_TICKET = ticket("t1", "1", "2025-03-02 08:00", replied="2025-03-02 09:00")

# (entity, bad line, reason it must get): each was a dbt cast error or test failure before
CASES: list[tuple[str, str, Any, str]] = [
    (
        "crm/orders",
        "1e308 total",
        _with(_ORDER, "properties.hs_total_price", "1e308"),
        "out_of_range: properties.hs_total_price does not fit DECIMAL(28,6): 1e308",
    ),
    (
        "crm/orders",
        "NaN total",
        _with(_ORDER, "properties.hs_total_price", "NaN"),
        "wrong_type: properties.hs_total_price should be a finite number, got NaN",
    ),
    (
        "crm/orders",
        "Infinity refund",
        _with(_ORDER, "properties.hs_refund_amount", "-Infinity"),
        "wrong_type: properties.hs_refund_amount should be a finite number, got -Infinity",
    ),
    (
        "crm/orders",
        "line item quantity two",
        _with(_ORDER, "line_items.0.properties.quantity", "two"),
        "wrong_type: line_items[*].properties.quantity should be a whole number, got two",
    ),
    (
        "crm/orders",
        "negative line item quantity",
        _with(_ORDER, "line_items.0.properties.quantity", "-1"),
        "out_of_range: line_items[*].properties.quantity is below 0: -1",
    ),
    (
        "crm/orders",
        "line item quantity 1.5",
        _with(_ORDER, "line_items.0.properties.quantity", "1.5"),
        "wrong_type: line_items[*].properties.quantity should be a whole number, got 1.5",
    ),
    (
        "crm/orders",
        "line item price NaN",
        _with(_ORDER, "line_items.0.properties.price", "NaN"),
        "wrong_type: line_items[*].properties.price should be a finite number, got NaN",
    ),
    (
        "crm/orders",
        "line item quantity 3e9",
        _with(_ORDER, "line_items.0.properties.quantity", 3e9),
        "out_of_range: line_items[*].properties.quantity does not fit INTEGER: 3000000000.0",
    ),
    (
        "crm/orders",
        "archived yes-no",
        _with(_ORDER, "archived", "maybe"),
        "wrong_type: archived should be a boolean, got varchar",
    ),
    (
        "cart_events/tracks",
        "cart quantity two",
        _with(_TRACK, "properties.quantity", "two"),
        "wrong_type: properties.quantity should be a whole number, got two",
    ),
    (
        "cart_events/tracks",
        "cart quantity -3",
        _with(_TRACK, "properties.quantity", -3),
        "out_of_range: properties.quantity is below 0: -3",
    ),
    (
        "cart_events/tracks",
        "cart total a word",
        _with(_TRACK, "properties.total", "lots"),
        "wrong_type: properties.total should be a finite number, got lots",
    ),
    (
        "calls/calls",
        "duration 3e9",
        _with(_CALL, "duration", 3_000_000_000),
        "out_of_range: duration does not fit INTEGER: 3000000000",
    ),
    (
        "calls/calls",
        "answered 24.5 h after start",
        _with(_CALL, "answered_at", unix("2025-03-01 08:30")),
        None,
    ),  # filled below: started the day before
    (
        "calls/calls",
        "answered before start",
        _with(_CALL, "answered_at", unix("2025-03-02 08:59")),
        "out_of_range: answered_at is -60 s after started_at (allowed 0..86400)",
    ),
    (
        "calls/calls",
        "archived not a boolean",
        _with(_CALL, "archived", "nope"),
        "wrong_type: archived should be a boolean, got nope",
    ),
    (
        "calls/calls",
        "started in year 3 million",
        _with(_CALL, "started_at", 99_999_999_999_999),
        "out_of_range: started_at is not a representable time: 99999999999999",
    ),
    (
        "crm/feedback_submissions",
        "score 1e400",
        _with(_SURVEY, "properties.hs_value", "1e400"),
        "wrong_type: properties.hs_value should be a whole number, got 1e400",
    ),
    (
        "reviews/reviews",
        "isVerified not a boolean",
        _with(_REVIEW, "isVerified", "sure"),
        "wrong_type: isVerified should be a boolean, got sure",
    ),
    (
        "crm/tickets",
        "closed_date not a date",
        _with(_TICKET, "properties.closed_date", "2025-02-30T00:00:00Z"),
        "wrong_type: properties.closed_date is not an ISO-8601 timestamp: 2025-02-30T00:00:00Z",
    ),
]
# a call that started 2025-03-01 08:00 and was answered 24.5 h later, on the partition's day
_LATE = _with(_with(_CALL, "started_at", unix("2025-03-01 08:00")), "answered_at", unix("2025-03-02 08:30"))
CASES[13] = (
    "calls/calls",
    "answered 24.5 h after start",
    _LATE,
    "out_of_range: answered_at is 88200 s after started_at (allowed 0..86400)",
)

_GOOD = {
    "crm/orders": _ORDER,
    "cart_events/tracks": _TRACK,
    "calls/calls": _CALL,
    "crm/feedback_submissions": _SURVEY,
    "reviews/reviews": _REVIEW,
    "crm/tickets": _TICKET,
}


@pytest.mark.parametrize(("folder", "bad"), [(c[0], c[2]) for c in CASES], ids=[c[1] for c in CASES])
def test_a_bad_value_is_one_quarantined_line_and_the_rest_loads(tmp_path: Path, folder: str, bad: Any) -> None:
    reason = next(c[3] for c in CASES if c[2] is bad)
    source, name = folder.split("/")
    good = _GOOD[folder]
    b = LandingBuilder(tmp_path)
    b.add(source, name, DT, good).add(source, name, DT, bad).add(source, name, DT, good)
    b.write()
    con = duckdb.connect()
    result = load_partition(con, entity(source, name), tmp_path, DT)
    assert (result.lines_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    rows = con.execute("select file_path, line_number, reason, reason_code from audit.quarantine").fetchall()
    assert len(rows) == 1
    file_path, line, got, code = rows[0]
    assert file_path.endswith(f"{source}/{name}/dt={DT}/part-0001.jsonl")
    assert line == 2
    assert got == reason
    assert code == reason.split(":")[0]
    assert con.execute(f"select list(_line_number order by 1) from {entity(source, name).raw_table}").fetchone() == (
        [1, 3],
    )


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "nan", "-inf"])
def test_bare_non_finite_numbers_are_not_json(tmp_path: Path, token: str) -> None:
    good = track("m1", "Product Added", "2025-03-02T09:00:00Z", price=5.0, note="NaN and Infinity in a string")
    bare = (
        '{"messageId": "m2", "event": "Product Added", "timestamp": "2025-03-02T09:00:00Z", '
        f'"receivedAt": "2025-03-02T09:00:01Z", "properties": {{"price": {token}}}}}'
    )
    LandingBuilder(tmp_path).add("cart_events", "tracks", DT, good).add("cart_events", "tracks", DT, bare).write()
    con = duckdb.connect()
    # DuckDB's own parser takes it: the loader must not
    assert con.execute("select json_valid(?)", [bare]).fetchone() == (True,)
    result = load_partition(con, entity("cart_events", "tracks"), tmp_path, DT)
    assert (result.lines_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    line, reason = con.execute("select line_number, reason from audit.quarantine").fetchone()
    assert line == 2
    assert reason.startswith("bad_json: NaN or Infinity is not a JSON number")


def test_nothing_is_rejected_for_being_old(tmp_path: Path) -> None:
    # CDNOW's history: an order of 1997, a contact created in 1970
    old_order = order("cd-1", "1", "1997-01-01 10:00", total="29.33", items=[("P-1", "29.33", "1")])
    old_contact = contact("1", "1997-01-01 09:00", created="1970-01-01 00:00")
    b = LandingBuilder(tmp_path).add("crm", "orders", "1997-01-01", old_order)
    b.add("crm", "contacts", "1997-01-01", old_contact).write()
    con = duckdb.connect()
    assert load_partition(con, entity("crm", "orders"), tmp_path, "1997-01-01").rows_loaded == 1
    assert load_partition(con, entity("crm", "contacts"), tmp_path, "1997-01-01").rows_loaded == 1


def test_every_entity_has_typed_fields_and_the_call_limit_is_the_marts_test() -> None:
    import yaml

    from dagster_project.lib.landing import SQL_TYPES, landing_fields
    from dagster_project.lib.settings import DBT_PROJECT_DIR

    table = landing_fields()
    assert set(table) == {e.key for e in ENTITIES}
    assert all(spec.type in SQL_TYPES for specs in table.values() for spec in specs)
    # the loader's limit on a call's phases is the bound the service marts test on their averages
    calls = {s.path: s for s in table["calls__calls"]}
    mart = yaml.safe_load((DBT_PROJECT_DIR / "models/marts/service/mart_call_center_daily.yml").read_text())
    row_rules = next(t["row_rules"]["arguments"] for t in mart["models"][0]["data_tests"] if "row_rules" in t)
    bounds = {name: row_rules["between"][name][1] for name in ("avg_speed_of_answer_seconds", "avg_handle_seconds")}
    assert dict(calls["$.answered_at"].after) == {"$.started_at": bounds["avg_speed_of_answer_seconds"]}
    assert dict(calls["$.ended_at"].after)["$.answered_at"] == bounds["avg_handle_seconds"]


def test_the_documented_rules_are_the_rules() -> None:
    from dagster_project.lib.landing import DOC_PATH, documented_rules, render_rules_markdown

    assert documented_rules(DOC_PATH.read_text(encoding="utf-8")) == render_rules_markdown(), (
        "docs/data-quality.md is out of date: run python -m dagster_project.lib.landing"
    )


def test_staging_models_cast_landing_values_only_through_the_table() -> None:
    """A direct cast in a staging model would bypass the loader's check of the same type."""
    import re

    from dagster_project.lib.settings import DBT_PROJECT_DIR

    direct = re.compile(r"dbt\.type_|type_double\(|_to_utc\(|as boolean|::")
    offenders = {
        str(path.relative_to(DBT_PROJECT_DIR)): direct.findall(path.read_text())
        for path in (DBT_PROJECT_DIR / "models" / "staging").rglob("*.sql")
        if direct.search(path.read_text())
    }
    assert offenders == {}
