"""One bad line never blocks a source through its Great Expectations suite.

Every ERROR expectation of a suite that a single row can fail (a value outside its set or
range, two timestamps out of order, a refund above the total, a moment after the export day)
is a blocking check on the whole source: one such row would stop every mart downstream. So
the loader must quarantine such a row first, and GX only ever fails on something that got
into the raw tables another way.

For each entity, a file of lines each breaking one expectation:
- loaded by the loader: every line is quarantined with its reason, and the suite passes;
- written straight into the raw table (bypassing the loader): the suite fails, and between
  them the lines fail EVERY row-level ERROR expectation of the suite, so none is left that
  the loader does not cover.
"""

from __future__ import annotations

import copy
import json
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import duckdb
import pytest
from landing_builder import LandingBuilder, call, contact, order, owner, product, review, survey, ticket, track

from dagster_project.extract.loader import load_partition
from dagster_project.lib.landing import ENTITIES, entity
from dagster_project.quality import checks, gx_worker

DT = "2025-03-02"
FUTURE = "2025-03-04 10:00"


def _with(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    target: Any = out
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is _DROP:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return out


_DROP = object()
_CALL = call(1, f"{DT} 10:00")
_MISSED = call(2, f"{DT} 10:00", answered_after=None, reason="no_available_agent")
_TRACK = track("m-1", "Product Added", f"{DT}T09:00:00Z", cart_id="c-1", price=5.0, quantity=1, revenue=5.0)
_CONTACT = contact("1", f"{DT} 09:00")
_SURVEY = survey("s-1", "1", f"{DT} 09:00")
_ORDER = order("o-1", "1", f"{DT} 09:00", total="10.00", refund="0")
_PRODUCT = product("p-1", f"{DT} 09:00", category="shoes", price="5.00")
_TICKET = ticket("t-1", "1", f"{DT} 08:00", replied=f"{DT} 09:00", closed=f"{DT} 10:00")
_REVIEW = review("r-1", f"{DT} 07:00", stars=4)

# entity key -> (bad record, start of the reason the loader must give)
CASES: dict[str, list[tuple[dict[str, Any], str]]] = {
    "calls__calls": [
        (_with(_CALL, "direction", "sideways"), "unknown_enum: direction"),
        (call(3, FUTURE), "future_timestamp: started_at"),
        (_with(_CALL, "answered_at", _CALL["started_at"] - 60), "out_of_range: answered_at is -60 s after started_at"),
        (_with(_CALL, "ended_at", _CALL["answered_at"] - 5), "out_of_range: ended_at is -5 s after answered_at"),
        (_with(_MISSED, "ended_at", _MISSED["started_at"] - 30), "out_of_range: ended_at is -30 s after started_at"),
        (_with(_CALL, "duration", -5), "out_of_range: duration is below 0: -5"),
        (_with(_MISSED, "missed_call_reason", "bored"), "unknown_enum: missed_call_reason"),
    ],
    "cart_events__tracks": [
        (_with(_TRACK, "event", _DROP), "missing_field: event"),
        (_with(_TRACK, "timestamp", "2025-03-04T10:00:00Z"), "future_timestamp: timestamp"),
        (_with(_TRACK, "receivedAt", "2025-03-04T10:00:00Z"), "future_timestamp: receivedAt"),
        (_with(_TRACK, "context.device.type", "fridge"), "unknown_enum: context.device.type"),
        (_with(_TRACK, "properties.price", -1.0), "out_of_range: properties.price is below 0"),
        (_with(_TRACK, "properties.revenue", -1.0), "out_of_range: properties.revenue is below 0"),
    ],
    "crm__contacts": [
        (contact("2", FUTURE), "future_timestamp: createdAt"),
        (contact("3", FUTURE, created=f"{DT} 09:00"), "future_timestamp: updatedAt"),
        (contact("4", f"{DT} 08:00", created=f"{DT} 09:00"), "out_of_range: updatedAt is -3600"),
        (_with(_CONTACT, "properties.customer_segment", "vip"), "unknown_enum: properties.customer_segment"),
    ],
    "crm__feedback_submissions": [
        (_with(_SURVEY, "properties.hs_survey_type", "XYZ"), "unknown_enum: properties.hs_survey_type"),
        (_with(_SURVEY, "properties.hs_value", "abc"), "wrong_type: properties.hs_value"),
        (survey("s-2", "1", f"{DT} 09:00", kind="NPS", value="11"), "out_of_range: properties.hs_value"),
        (survey("s-3", "1", f"{DT} 09:00", kind="CSAT", value="6"), "out_of_range: properties.hs_value"),
        (survey("s-4", "1", f"{DT} 09:00", kind="CES", value="0"), "out_of_range: properties.hs_value"),
        (_with(_SURVEY, "properties.hs_survey_channel", "FAX"), "unknown_enum: properties.hs_survey_channel"),
        (
            _with(_SURVEY, "properties.hs_submission_timestamp", "2025-03-04T10:00:00Z"),
            "future_timestamp: properties.hs_submission_timestamp",
        ),
    ],
    "crm__orders": [
        (order("o-2", "1", f"{DT} 09:00", total="10.00", updated=FUTURE), "future_timestamp: updatedAt"),
        (order("o-3", "1", FUTURE, total="10.00"), "future_timestamp: createdAt"),
        (order("o-4", "1", f"{DT} 09:00", total="10.00", updated=f"{DT} 08:00"), "out_of_range: updatedAt is -3600"),
        (_with(_ORDER, "properties.hs_total_price", "-1"), "out_of_range: properties.hs_total_price is below 0"),
        (_with(_ORDER, "properties.hs_refund_amount", "-1"), "out_of_range: properties.hs_refund_amount is below 0"),
        (
            _with(_ORDER, "properties.hs_refund_amount", "12.50"),
            "out_of_range: properties.hs_refund_amount 12.50 is above properties.hs_total_price 10.00",
        ),
        (_with(_ORDER, "properties.hs_currency_code", _DROP), "missing_field: properties.hs_currency_code"),
        (_with(_ORDER, "properties.hs_source_store", "shop"), "unknown_enum: properties.hs_source_store"),
    ],
    "crm__products": [
        (product("p-2", FUTURE, category="shoes", price="5.00"), "future_timestamp: updatedAt"),
        (_with(_PRODUCT, "properties.price", "-1"), "out_of_range: properties.price is below 0"),
    ],
    "crm__owners": [],  # its only ERROR expectation, id not null, is the raw table's NOT NULL
    "crm__tickets": [
        (ticket("t-2", "1", f"{DT} 08:00", updated=FUTURE), "future_timestamp: updatedAt"),
        (ticket("t-3", "1", FUTURE), "future_timestamp: createdAt"),
        (
            ticket("t-4", "1", f"{DT} 08:00", replied=f"{DT} 07:00", updated=f"{DT} 09:00"),
            "out_of_range: properties.first_agent_reply_date is -3600",
        ),
        (
            ticket("t-5", "1", f"{DT} 08:00", closed=f"{DT} 07:30", updated=f"{DT} 09:00"),
            "out_of_range: properties.closed_date is -1800",
        ),
        (_with(_TICKET, "properties.hs_ticket_priority", "P1"), "unknown_enum: properties.hs_ticket_priority"),
        (_with(_TICKET, "properties.source_type", "FAX"), "unknown_enum: properties.source_type"),
        (_with(_TICKET, "properties.hs_pipeline_stage", "9"), "unknown_enum: properties.hs_pipeline_stage"),
    ],
    "reviews__reviews": [
        (review("r-2", f"{DT} 07:00", stars=0), "out_of_range: stars is below 1"),
        (review("r-3", f"{DT} 07:00", stars=6), "out_of_range: stars is above 5"),
        (review("r-4", f"{DT} 07:00", stars=4, source="yelp"), "unknown_enum: source"),
        (review("r-5", FUTURE, stars=4), "future_timestamp: createdAt"),
    ],
}
GOOD: dict[str, dict[str, Any]] = {
    "calls__calls": _CALL,
    "cart_events__tracks": _TRACK,
    "crm__contacts": _CONTACT,
    "crm__feedback_submissions": _SURVEY,
    "crm__orders": _ORDER,
    "crm__products": _PRODUCT,
    "crm__owners": owner("301", "ola@shop.example"),
    "crm__tickets": _TICKET,
    "reviews__reviews": _REVIEW,
}
# Expectations no single landing line can fail through the loader: uniqueness is per partition
# (WARN: re-sends are normal), and an id column is the raw table's NOT NULL record_id.
_NOT_ROW_LEVEL = {"expect_compound_columns_to_be_unique"}


def _row_level_errors(key: str) -> list[int]:
    suite = checks.load_suite(key)
    return [
        i
        for i, x in enumerate(suite["expectations"])
        if x["meta"]["severity"] == "ERROR"
        and x["type"] not in _NOT_ROW_LEVEL
        and not (
            x["type"] == "expect_column_values_to_not_be_null"
            and suite["columns"][x["kwargs"]["column"]] == "record_id"
        )
    ]


def _split(key: str) -> tuple[str, str]:
    source, name = key.split("__")
    return source, name


@pytest.mark.parametrize("key", [e.key for e in ENTITIES])
def test_the_loader_quarantines_every_row_a_blocking_expectation_would_fail(tmp_path: Path, key: str) -> None:
    source, name = _split(key)
    e = entity(source, name)
    cases = CASES[key]
    b = LandingBuilder(tmp_path).add(source, name, DT, GOOD[key])
    for record, _ in cases:
        b.add(source, name, DT, record)
    b.write()
    file = str(e.folder(tmp_path, DT) / "part-0001.jsonl")
    with duckdb.connect() as con:
        result = load_partition(con, e, tmp_path, DT)
        assert (result.lines_read, result.rows_loaded) == (len(cases) + 1, 1)
        reasons = dict(con.execute("select line_number, reason from audit.quarantine").fetchall())
        for n, (_, reason) in enumerate(cases, start=2):
            assert reasons[n].startswith(reason), (n, reasons[n], reason)
        outcome = checks.gx_suite_check(lambda: nullcontext(con), e, [DT], 60)
        assert outcome.passed, outcome.metadata["failed_expectations"]

        # the same lines written behind the loader's back: GX is the second line of defence, and
        # between them they break every row-level ERROR expectation of the suite
        derived = "".join(f", {c}" for c in e.derived)
        nulls = "".join(", null" for _ in e.derived)
        for n, (record, _) in enumerate(cases, start=2):
            con.execute(
                f"insert into {e.raw_table} (record_id, record{derived}, _dt, _file_path, _line_number, _loaded_at) "
                f"values (?, ?{nulls}, ?, ?, ?, now()::timestamp)",
                [str(record[e.id_path.removeprefix("$.")]), json.dumps(record), DT, file, n],
            )
        suite = checks.load_suite(key)
        frame = con.execute(checks._suite_frame_sql(suite, e.raw_table, 60), [DT, DT, [DT]]).df()
    outcomes = gx_worker.validate(frame, suite["expectations"], 5)
    failed = {i for i, o in enumerate(outcomes) if not o["success"]}
    missing = [suite["expectations"][i] for i in _row_level_errors(key) if i not in failed]
    assert not missing, f"no case of {key} breaks these ERROR expectations: {missing}"


EMPTY_STRINGS: dict[str, list[tuple[dict[str, Any], str]]] = {
    "calls__calls": [(_CALL, "direction"), (_MISSED, "missed_call_reason")],
    "cart_events__tracks": [(_TRACK, "context.device.type")],
    "crm__contacts": [(_CONTACT, "properties.customer_segment")],
    "crm__feedback_submissions": [(_SURVEY, "properties.hs_survey_channel")],
    "crm__orders": [(_ORDER, "properties.hs_source_store")],
    "crm__tickets": [
        (_TICKET, "properties.hs_ticket_priority"),
        (_TICKET, "properties.source_type"),
        (_TICKET, "properties.hs_pipeline_stage"),
    ],
}


@pytest.mark.parametrize("key", sorted(EMPTY_STRINGS))
def test_an_empty_enum_value_is_absent_for_the_loader_and_gx_alike(tmp_path: Path, key: str) -> None:
    """HubSpot and Aircall write "" for an unset property: the loader and staging read it as null,
    so the suite must too (before, one such line passed the loader and failed the suite)."""
    source, name = _split(key)
    e = entity(source, name)
    b = LandingBuilder(tmp_path)
    for record, path in EMPTY_STRINGS[key]:
        b.add(source, name, DT, _with(record, path, ""))
    b.write()
    with duckdb.connect() as con:
        result = load_partition(con, e, tmp_path, DT)
        assert result.rows_quarantined == 0
        outcome = checks.gx_suite_check(lambda: nullcontext(con), e, [DT], 60)
    blocking = [f for f in outcome.metadata["failed_expectations"] if f["severity"] == "ERROR"]
    assert not blocking, blocking  # (three versions of one ticket at one updatedAt only warn)


def test_a_refund_equal_to_the_total_loads(tmp_path: Path) -> None:
    e = entity("crm", "orders")
    LandingBuilder(tmp_path).add("crm", "orders", DT, _with(_ORDER, "properties.hs_refund_amount", "10.0")).write()
    with duckdb.connect() as con:
        assert load_partition(con, e, tmp_path, DT).rows_loaded == 1
