"""The partition loader: every landing line is loaded or quarantined with its reason (CONTRACT §5)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest
from landing_builder import LandingBuilder, call, contact, review, survey, track

from dagster_project.extract.loader import load_partition
from dagster_project.lib.landing import ENTITIES, entity, partitions_present

DT = "2025-03-02"


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _quarantine(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    return dict(con.execute("select line_number, reason from audit.quarantine order by 1").fetchall())


def test_good_and_bad_lines_are_accounted_for(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    b = LandingBuilder(tmp_path)
    b.add("crm", "feedback_submissions", DT, survey("1", "10", "2025-03-02 10:00", value="9"))  # 1 ok
    b.add("crm", "feedback_submissions", DT, survey("2", "10", "2025-03-02 10:00", value="11"))  # 2 NPS > 10
    b.add("crm", "feedback_submissions", DT, survey("3", "10", "2025-03-02 10:00", kind="CSAT", value="0"))  # 3
    b.add("crm", "feedback_submissions", DT, survey("4", "10", "2025-03-02 10:00", kind="CES", value="7"))  # 4 ok
    b.add("crm", "feedback_submissions", DT, survey("5", "10", "2025-03-02 10:00", value="nine"))  # 5 wrong type
    b.add("crm", "feedback_submissions", DT, survey("6", "10", "2025-03-02 10:00", channel="FAX"))  # 6 enum
    b.add("crm", "feedback_submissions", DT, survey("7", "10", "2025-03-05 10:00"))  # 7 future
    b.add("crm", "feedback_submissions", DT, '{"id": "8", "properties": ')  # 8 bad JSON
    b.add("crm", "feedback_submissions", DT, "")  # 9 empty line
    b.add("crm", "feedback_submissions", DT, '["an", "array"]')  # 10 not an object
    no_id = survey("x", "10", "2025-03-02 10:00")
    del no_id["id"]
    b.add("crm", "feedback_submissions", DT, no_id)  # 11 missing id
    b.add("crm", "feedback_submissions", DT, survey("12", "10", "2025-03-02 10:00", value="7.5"))  # 12 not whole
    b.write()

    result = load_partition(con, entity("crm", "feedback_submissions"), tmp_path, DT)

    assert (result.lines_read, result.rows_loaded, result.rows_quarantined) == (12, 2, 10)
    reasons = _quarantine(con)
    assert set(reasons) == {2, 3, 5, 6, 7, 8, 9, 10, 11, 12}
    assert reasons[2].startswith("out_of_range: properties.hs_value 11 is outside the NPS scale")
    assert reasons[3].startswith("out_of_range: properties.hs_value 0 is outside the CSAT scale")
    assert reasons[5] == "wrong_type: properties.hs_value should be a whole number, got nine"
    assert reasons[6] == "unknown_enum: properties.hs_survey_channel = FAX"
    assert reasons[7].startswith("future_timestamp: createdAt")
    assert reasons[8].startswith("bad_json:")
    assert reasons[9] == "bad_json: empty line"
    assert reasons[10] == "bad_json: a line must hold one JSON object, got array"
    assert reasons[11] == "missing_field: id is missing or null"
    assert reasons[12] == "wrong_type: properties.hs_value should be a whole number, got 7.5"
    row = con.execute("select file_path, raw_line, dt, source, entity from audit.quarantine where line_number = 8")
    file_path, raw_line, dt, source, name = row.fetchone()
    assert file_path.endswith("dt=2025-03-02/part-0001.jsonl")
    assert raw_line == '{"id": "8", "properties": '
    assert (str(dt), source, name) == (DT, "crm", "feedback_submissions")
    counts = con.execute("select lines_read, rows_loaded, rows_quarantined from audit.load_counts").fetchall()
    assert counts == [(12, 2, 10)]


def test_reloading_a_partition_replaces_it(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    b = LandingBuilder(tmp_path)
    for n in range(3):
        b.add("reviews", "reviews", DT, review(f"rv-{n}", "2025-03-02 07:00", stars=5))
    b.add("reviews", "reviews", DT, review("rv-bad", "2025-03-02 07:00", stars=7))
    b.write()
    e = entity("reviews", "reviews")
    for _ in range(3):
        load_partition(con, e, tmp_path, DT)
    assert con.execute("select count(*) from raw.reviews__reviews").fetchone()[0] == 3
    assert con.execute("select count(*) from audit.quarantine").fetchone()[0] == 1
    assert con.execute("select count(*) from audit.load_counts").fetchone()[0] == 1
    # a re-delivered file with a fourth review replaces the day, it does not add to it
    b.add("reviews", "reviews", DT, review("rv-3", "2025-03-02 08:00", stars=1)).write()
    load_partition(con, e, tmp_path, DT)
    assert con.execute("select count(*) from raw.reviews__reviews").fetchone()[0] == 4


def test_other_days_are_untouched_by_a_reload(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    b = LandingBuilder(tmp_path)
    b.add("reviews", "reviews", "2025-03-01", review("a", "2025-03-01 07:00", stars=5))
    b.add("reviews", "reviews", DT, review("b", "2025-03-02 07:00", stars=5)).write()
    e = entity("reviews", "reviews")
    load_partition(con, e, tmp_path, "2025-03-01")
    load_partition(con, e, tmp_path, DT)
    load_partition(con, e, tmp_path, DT)
    assert con.execute("select record_id, _dt::varchar from raw.reviews__reviews order by 1").fetchall() == [
        ("a", "2025-03-01"),
        ("b", DT),
    ]


def test_gzip_files_load_like_plain_ones(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    folder = tmp_path / "calls" / "calls" / f"dt={DT}"
    folder.mkdir(parents=True)
    lines = [json.dumps(call(n, "2025-03-02 10:00")) for n in range(5)] + ["{oops"]
    with gzip.open(folder / "part-0001.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    (folder / "part-0002.jsonl").write_text(json.dumps(call(99, "2025-03-02 11:00")) + "\n")
    result = load_partition(con, entity("calls", "calls"), tmp_path, DT)
    assert (result.files, result.lines_read, result.rows_loaded, result.rows_quarantined) == (2, 7, 6, 1)
    e164 = con.execute("select distinct phone_e164 from raw.calls__calls").fetchall()
    assert e164 == [("+48501234567",)]


def test_truncated_gzip_keeps_lines_read_and_quarantines_the_rest(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    folder = tmp_path / "calls" / "calls" / f"dt={DT}"
    folder.mkdir(parents=True)
    payload = gzip.compress(("\n".join(json.dumps(call(n, "2025-03-02 10:00")) for n in range(200)) + "\n").encode())
    (folder / "part-0001.jsonl.gz").write_bytes(payload[: len(payload) // 2])
    result = load_partition(con, entity("calls", "calls"), tmp_path, DT)
    assert result.rows_quarantined == 1
    assert result.lines_read == result.rows_loaded + 1
    reason = con.execute("select reason from audit.quarantine").fetchone()[0]
    assert reason.startswith("unreadable_file:")


def test_invalid_utf8_is_quarantined_not_fatal(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    folder = tmp_path / "reviews" / "reviews" / f"dt={DT}"
    folder.mkdir(parents=True)
    good = json.dumps(review("ok", "2025-03-02 07:00", stars=4)).encode()
    (folder / "part-0001.jsonl").write_bytes(good + b"\n\xff\xfe garbage\n" + good.replace(b'"ok"', b'"ok2"') + b"\n")
    result = load_partition(con, entity("reviews", "reviews"), tmp_path, DT)
    assert (result.rows_loaded, result.rows_quarantined) == (2, 1)
    assert _quarantine(con)[2].startswith("bad_encoding:")


def test_missing_folder_is_an_empty_partition(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    result = load_partition(con, entity("crm", "contacts"), tmp_path, DT)
    assert (result.files, result.lines_read, result.rows_loaded) == (0, 0, 0)
    assert con.execute("select lines_read from audit.load_counts").fetchall() == [(0,)]


def test_unknown_fields_are_kept_in_raw(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    record = contact("1", "2025-03-02 10:00", email="a@b.c")
    record["vendor_extra"] = {"nested": [1, 2]}
    LandingBuilder(tmp_path).add("crm", "contacts", DT, record).write()
    load_partition(con, entity("crm", "contacts"), tmp_path, DT)
    kept = con.execute("select json_extract(record, '$.vendor_extra.nested[1]') from raw.crm__contacts")
    assert kept.fetchone()[0] == "2"


def test_segment_timestamps_and_types_are_checked(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    b = LandingBuilder(tmp_path)
    b.add("cart_events", "tracks", DT, track("m1", "Product Added", "2025-03-02T01:00:00+02:00", price=1.5))
    b.add("cart_events", "tracks", DT, track("m2", "Product Added", "yesterday", received="2025-03-02T01:00:00Z"))
    b.add("cart_events", "tracks", DT, track("m3", "Product Added", "2025-03-02T01:00:00Z", price="1.5"))
    b.add("cart_events", "tracks", DT, track("m4", "Product Added", "2025-03-02T01:00:00Z", device="watch"))
    b.write()
    load_partition(con, entity("cart_events", "tracks"), tmp_path, DT)
    reasons = _quarantine(con)
    assert reasons[2].startswith("wrong_type: timestamp is not an ISO-8601 timestamp")
    assert reasons[3] == "wrong_type: properties.price should be a number, got varchar"
    assert reasons[4] == "unknown_enum: context.device.type = watch"


def test_every_entity_has_an_id_rule_and_partitions_are_discovered(tmp_path: Path) -> None:
    assert len(ENTITIES) == 9
    for e in ENTITIES:
        assert any("missing_field" in r.reason for r in e.rules), e.key
    LandingBuilder(tmp_path).add("crm", "owners", "2025-03-01", {"id": "1"}).add(
        "reviews", "reviews", "2025-03-03", review("r", "2025-03-03 01:00", stars=3)
    ).write()
    assert partitions_present(tmp_path) == ["2025-03-01", "2025-03-03"]


def test_a_run_warns_once_for_its_quarantined_lines() -> None:
    """One warning per run names the total and the days with most quarantined lines (each log
    line is an event Dagster stores: a year's backfill must not write one per day)."""
    from dagster_project.extract.assets import quarantine_summary
    from dagster_project.extract.loader import LoadResult

    e = entity("crm", "contacts")
    day = [LoadResult("crm", "contacts", f"2025-03-0{d}", 1, 100, 100 - q, q) for d, q in enumerate([0, 3, 1, 3], 1)]
    assert quarantine_summary(e, day[:1]) is None
    assert quarantine_summary(e, day, listed=2) == (
        "crm/contacts: 7 of 400 lines quarantined on 3 of 4 day(s) (most: dt=2025-03-02 3 of 100, "
        "dt=2025-03-04 3 of 100 and 1 more day(s); see audit.quarantine)"
    )
    assert quarantine_summary(e, day).endswith("dt=2025-03-03 1 of 100; see audit.quarantine)")
