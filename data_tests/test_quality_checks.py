"""Each data-quality check fails on a fixture built to break it and passes on clean data."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import duckdb
import pytest
from landing_builder import LandingBuilder, call, review, survey, track

from dagster_project.extract.loader import load_partition
from dagster_project.lib.landing import Entity, entity
from dagster_project.quality import checks

DT = "2025-03-02"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _load(con: duckdb.DuckDBPyConnection, root: Path, source: str, name: str, dts: list[str]) -> None:
    for dt in dts:
        load_partition(con, entity(source, name), root, dt)


def _answer_before_start(con: duckdb.DuckDBPyConnection, *call_ids: int) -> None:
    """Make loaded calls answered a minute before they started, straight in the raw table.

    The loader quarantines such a call, so it can only get there another way (a raw
    table written by an older loader): the GX suite is the second line of defence.
    """
    con.execute(
        "update raw.calls__calls set record = json_merge_patch(record, json_object('answered_at', "
        "cast(json_extract_string(record, '$.started_at') as bigint) - 60)) "
        "where record_id in (select unnest(?::varchar[]))",
        [[str(c) for c in call_ids]],
    )


def test_gx_suite_passes_on_clean_calls(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    b = LandingBuilder(tmp_path)
    for n in range(5):
        b.add("calls", "calls", DT, call(n, "2025-03-02 10:00"))
    b.write()
    _load(con, tmp_path, "calls", "calls", [DT])
    outcome = checks.gx_suite_check(lambda: nullcontext(con), entity("calls", "calls"), [DT], 60)
    assert outcome.passed, outcome.metadata
    assert outcome.metadata["rows_validated"] == 5


def test_gx_suite_fails_when_call_timestamps_are_out_of_order(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    LandingBuilder(tmp_path).add("calls", "calls", DT, call(1, "2025-03-02 10:00")).add(
        "calls", "calls", DT, call(2, "2025-03-02 10:00")
    ).write()
    _load(con, tmp_path, "calls", "calls", [DT])
    _answer_before_start(con, 2)
    outcome = checks.gx_suite_check(lambda: nullcontext(con), entity("calls", "calls"), [DT], 60)
    assert not outcome.passed
    assert outcome.severity == "ERROR"
    failed = outcome.metadata["failed_expectations"]
    assert {f["expectation"] for f in failed} == {"expect_column_pair_values_a_to_be_greater_than_b"}
    assert failed[0]["unexpected_count"] == 1


def _three_days_of_calls(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> tuple[list[str], Entity]:
    """Three days of three calls each, loaded; a bad call (answered before it started) on two of them."""
    b = LandingBuilder(tmp_path)
    days = ["2025-03-01", "2025-03-02", "2025-03-03"]
    for i, dt in enumerate(days):
        for n in range(3):
            b.add("calls", "calls", dt, call(10 * i + n, f"{dt} 10:00"))
    b.write()
    _load(con, tmp_path, "calls", "calls", days)
    _answer_before_start(con, 0, 20)
    return days, entity("calls", "calls")


def test_gx_suite_in_chunks_equals_one_batch(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # validated as one batch and as one chunk per day
    days, e = _three_days_of_calls(tmp_path, con)
    whole = checks.gx_suite_check(lambda: nullcontext(con), e, days, 60)
    monkeypatch.setattr(checks, "GX_CHUNK_ROWS", 3)
    assert checks._chunks(con, e, days) == [[d] for d in days]
    opened = []

    def connect():  # counts the connections: the chunk sizes, then one per chunk
        opened.append(1)
        return nullcontext(con)

    chunked = checks.gx_suite_check(connect, e, days, 60)
    assert len(opened) == 1 + len(days)
    assert whole.metadata["rows_validated"] == chunked.metadata["rows_validated"] == 9
    assert whole.failing_count == chunked.failing_count == 2
    assert whole.metadata["failed_expectations"] == chunked.metadata["failed_expectations"]


def test_gx_suite_duplicate_ids_only_warn(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    b = LandingBuilder(tmp_path)
    b.add("reviews", "reviews", DT, review("r1", "2025-03-02 07:00", stars=4))
    b.add("reviews", "reviews", DT, review("r1", "2025-03-02 07:00", stars=4))  # re-delivered
    b.write()
    _load(con, tmp_path, "reviews", "reviews", [DT])
    outcome = checks.gx_suite_check(lambda: nullcontext(con), entity("reviews", "reviews"), [DT], 60)
    assert not outcome.passed
    assert outcome.severity == "WARN"  # re-sends are expected; staging removes them


def test_gx_suite_checks_survey_scales_per_type(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    b = LandingBuilder(tmp_path)
    b.add("crm", "feedback_submissions", DT, survey("1", "1", "2025-03-02 10:00", kind="NPS", value="0"))
    b.add("crm", "feedback_submissions", DT, survey("2", "1", "2025-03-02 10:00", kind="CES", value="7"))
    b.write()
    _load(con, tmp_path, "crm", "feedback_submissions", [DT])
    assert checks.gx_suite_check(lambda: nullcontext(con), entity("crm", "feedback_submissions"), [DT], 60).passed
    # corrupt a loaded row behind the loader's back: the suite is a second line of defence
    con.execute("update raw.crm__feedback_submissions set record = replace(record::varchar, '\"7\"', '\"9\"')::json")
    outcome = checks.gx_suite_check(lambda: nullcontext(con), entity("crm", "feedback_submissions"), [DT], 60)
    assert not outcome.passed and outcome.severity == "ERROR"
    assert outcome.metadata["failed_expectations"][0]["sample"] == ["9.0"]


def test_quarantine_share_against_threshold(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    b = LandingBuilder(tmp_path)
    for n in range(9):
        b.add("reviews", "reviews", DT, review(f"r{n}", "2025-03-02 07:00", stars=5))
    b.add("reviews", "reviews", DT, "{broken")
    b.write()
    _load(con, tmp_path, "reviews", "reviews", [DT])
    e = entity("reviews", "reviews")
    failing = checks.quarantine_share_check(con, e, [DT], threshold=0.05)  # 1 of 10 = 10 % > 5 %
    assert not failing.passed and failing.failing_count == 1
    assert failing.metadata["partitions_over_threshold"] == [
        {"dt": DT, "lines_read": 10, "rows_quarantined": 1, "share": 0.1}
    ]
    assert failing.metadata["quarantined_by_reason"] == {"bad_json": 1}
    assert "raw_line" not in failing.metadata["sample"][0]  # no raw text (it may hold personal data)
    assert checks.quarantine_share_check(con, e, [DT], threshold=0.10).passed  # exactly at the threshold


def test_row_volume_warns_on_an_anomaly(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    b = LandingBuilder(tmp_path)
    days = [f"2025-03-0{d}" for d in range(1, 6)]
    for i, dt in enumerate(days):
        count = 10 if i < 4 else 30  # the fifth day triples
        for n in range(count):
            b.add("cart_events", "tracks", dt, track(f"m{dt}{n}", "Product Viewed", f"{dt}T10:00:00+00:00"))
    b.write()
    _load(con, tmp_path, "cart_events", "tracks", days)
    e = entity("cart_events", "tracks")
    outcome = checks.row_volume_check(con, e, [days[-1]], band=0.5)
    assert not outcome.passed and outcome.severity == "WARN"
    assert outcome.metadata["anomalies"] == [{"dt": days[-1], "rows_loaded": 30, "trailing_mean": 10.0}]
    assert checks.row_volume_check(con, e, [days[3]], band=0.5).passed  # 10 vs mean 10
    assert checks.row_volume_check(con, e, [days[1]], band=0.5).passed  # too little history to judge


def test_configured_severity_overrides_the_default() -> None:
    e = entity("calls", "calls")
    assert checks.severity_for("row_volume", e, {}, "WARN") == "WARN"
    assert checks.severity_for("row_volume", e, {"row_volume": "ERROR"}, "WARN") == "ERROR"
    assert checks.severity_for("row_volume", e, {"row_volume": "ERROR", "calls/calls:row_volume": "WARN"}, "WARN") == (
        "WARN"
    )


def test_every_entity_has_a_suite_whose_columns_exist(con: duckdb.DuckDBPyConnection) -> None:
    from dagster_project.extract.loader import ensure_schemas
    from dagster_project.lib.landing import ENTITIES

    ensure_schemas(con, ENTITIES)
    for e in ENTITIES:
        suite = checks.load_suite(e.key)
        frame = con.execute(checks._suite_frame_sql(suite, e.raw_table), [DT, DT, [DT]]).df()
        used = set()
        for spec in suite["expectations"]:
            kwargs = spec["kwargs"]
            used |= {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")}
            used |= set(kwargs.get("column_list", []))
        assert used - {None} <= set(frame.columns), e.key


def test_future_records_are_judged_against_their_own_partition(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    """One batch holds several days; each row is bounded by the end of its own dt day."""
    b = LandingBuilder(tmp_path)
    b.add("reviews", "reviews", "2025-03-01", review("a", "2025-03-01 07:00", stars=4))
    b.add("reviews", "reviews", DT, review("b", "2025-03-02 07:00", stars=4))
    b.write()
    _load(con, tmp_path, "reviews", "reviews", ["2025-03-01", DT])
    e = entity("reviews", "reviews")
    assert checks.gx_suite_check(lambda: nullcontext(con), e, ["2025-03-01", DT], 60).passed
    # move review a to 2025-03-02 behind the loader's back: it is now later than its own day's end
    patch = '{"createdAt": "2025-03-02T07:00:00Z"}'
    con.execute(f"update raw.reviews__reviews set record = json_merge_patch(record, '{patch}') where record_id = 'a'")
    outcome = checks.gx_suite_check(lambda: nullcontext(con), e, ["2025-03-01", DT], 60)
    assert not outcome.passed and outcome.severity == "ERROR"
    assert outcome.failing_count == 1


@pytest.fixture
def gx_worker_started() -> None:
    from dagster_project.quality import gx_worker

    gx_worker.start()
    yield
    gx_worker.stop()


def _broken_calls_check(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> checks.CheckOutcome:
    LandingBuilder(tmp_path).add("calls", "calls", DT, call(1, "2025-03-02 10:00")).add(
        "calls", "calls", DT, call(2, "2025-03-02 10:00")
    ).add("calls", "calls", DT, call(1, "2025-03-02 10:00")).write()  # call 1 sent twice: a WARN
    _load(con, tmp_path, "calls", "calls", [DT])
    _answer_before_start(con, 2)
    return checks.gx_suite_check(lambda: nullcontext(con), entity("calls", "calls"), [DT], 60)


def test_gx_suite_in_the_worker_process_equals_in_process(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, gx_worker_started: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.quality import gx_worker

    sent = []
    submit = gx_worker._worker.submit
    monkeypatch.setattr(gx_worker._worker, "submit", lambda fn, *args: sent.append(fn) or submit(fn, *args))
    in_worker = _broken_calls_check(tmp_path / "a", con)
    assert sent == [gx_worker._validate]  # the suite ran in the worker process
    gx_worker.stop()
    in_process = _broken_calls_check(tmp_path / "b", duckdb.connect())
    assert not in_worker.passed
    assert in_worker.metadata["failed_expectations"] == in_process.metadata["failed_expectations"]
    failed = in_worker.metadata["failed_expectations"]
    assert {(f["expectation"], f["severity"], f["unexpected_count"]) for f in failed} == {
        ("expect_column_pair_values_a_to_be_greater_than_b", "ERROR", 1),
        ("expect_compound_columns_to_be_unique", "WARN", 2),  # both rows of the call sent twice
    }
    assert (in_worker.passed, in_worker.severity, in_worker.failing_count) == (
        in_process.passed,
        in_process.severity,
        in_process.failing_count,
    )


def test_gx_suite_reads_the_next_chunk_while_the_worker_validates_one(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, gx_worker_started: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.quality import gx_worker

    days, e = _three_days_of_calls(tmp_path, con)
    gx_worker.stop()
    whole = checks.gx_suite_check(lambda: nullcontext(con), e, days, 60)  # one batch, in this process
    gx_worker.start()
    monkeypatch.setattr(checks, "GX_CHUNK_ROWS", 3)  # one chunk per day
    steps = []
    result = gx_worker.Pending.result
    monkeypatch.setattr(gx_worker.Pending, "result", lambda self: steps.append("result") or result(self))

    def connect():
        steps.append("read")
        return nullcontext(con)

    chunked = checks.gx_suite_check(connect, e, days, 60)
    # the chunk sizes, then each chunk read before the previous one's result is taken
    assert steps == ["read", "read", "read", "result", "read", "result", "result"]
    assert chunked.metadata["rows_validated"] == 9
    assert whole.failing_count == chunked.failing_count == 2
    assert whole.metadata["failed_expectations"] == chunked.metadata["failed_expectations"]


def test_a_validation_result_is_taken_once() -> None:
    import pandas as pd

    from dagster_project.quality import gx_worker

    pending = gx_worker.submit(pd.DataFrame({"x": [1, 2]}), [], 5)
    assert pending.result() == []
    with pytest.raises(RuntimeError, match="already taken"):
        pending.result()


def test_gx_suite_validates_in_process_when_the_worker_died(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, gx_worker_started: None
) -> None:
    import os
    import signal

    from dagster_project.quality import gx_worker

    gx_worker._worker.submit(int).result()  # the worker process is up
    for process in list(gx_worker._worker._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
        process.join()
    outcome = _broken_calls_check(tmp_path, con)
    assert gx_worker._worker is None  # given up: this check, and later ones, validate here
    assert not outcome.passed
    assert outcome.failing_count == 3  # the pair rule's row and the two rows of the call sent twice


def test_suites_validated_in_turn_in_one_process_do_not_affect_each_other() -> None:
    """The process that validates builds each suite once and reuses it (a GX context per
    validation leaked memory): frames validated in turn against two suites get the outcomes
    each gets alone, and the same frame the same outcomes the second time."""
    import pandas as pd

    from dagster_project.quality import gx_worker

    between = [
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "x", "min_value": 0, "max_value": 10},
            "meta": {"severity": "ERROR"},
        }
    ]
    not_null = [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "y"}, "meta": {"severity": "WARN"}}
    ]

    def verdicts(frame: pd.DataFrame, suite: list[dict]) -> list[tuple[str, bool, int]]:
        return [(o["severity"], o["success"], o["unexpected_count"]) for o in gx_worker.validate(frame, suite, 5)]

    bad_x, good_x = pd.DataFrame({"x": [1, 20, 30]}), pd.DataFrame({"x": [1, 2]})
    assert verdicts(bad_x, between) == [("ERROR", False, 2)]
    assert verdicts(pd.DataFrame({"y": ["a", None, None]}), not_null) == [("WARN", False, 2)]
    assert verdicts(good_x, between) == [("ERROR", True, 0)]
    assert verdicts(bad_x, between) == [("ERROR", False, 2)]
    assert verdicts(pd.DataFrame({"y": ["a"]}), not_null) == [("WARN", True, 0)]
