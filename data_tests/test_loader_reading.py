"""The loader's reading path (Python reads blocks, DuckDB splits and numbers the lines) numbers
and cleans every line as a plain line-by-line reader does, on every shape of file: CRLF, a
lone CR inside a line, a last line without newline, empty lines, BOMs, bad UTF-8, gzip, a
truncated gzip, files of several read blocks; and several days loaded together give what
loading them one by one gives."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import duckdb
import pytest
from landing_builder import owner

from dagster_project.extract import loader
from dagster_project.extract.loader import day_batches, load_partition, load_partitions
from dagster_project.lib.landing import entity

DT = "2025-03-02"
OWNERS = entity("crm", "owners")


def _reference(data: bytes) -> list[tuple[int, str, bool]]:
    """(line number, text, is UTF-8) per line: the loader's rules, one line at a time.

    Lines end at b"\\n" only; a line loses its trailing b"\\r"s, then one leading BOM; a last
    line without newline counts, an empty tail after the last newline does not.
    """
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    out = []
    for number, raw in enumerate(lines, start=1):
        raw = raw.rstrip(b"\r")
        raw = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
        try:
            out.append((number, raw.decode("utf-8"), True))
        except UnicodeDecodeError:
            out.append((number, raw.decode("utf-8", "backslashreplace"), False))
    return out


def _record(n: int) -> bytes:
    return json.dumps(owner(str(n), f"o{n}@shop.example")).encode()


def _shapes() -> dict[str, bytes]:
    good = [_record(n) for n in range(1, 9)]
    return {
        "crlf": b"\r\n".join(good) + b"\r\n",
        "no_final_newline": b"\n".join(good),
        "empty_lines": b"\n\n" + b"\n\n\n".join(good) + b"\n\n",
        "whitespace_only_lines": b"  \n\t\n" + b"\n".join(good) + b"\n \r\n",
        "bom": b"\xef\xbb\xbf" + b"\n\xef\xbb\xbf".join(good) + b"\n",
        "double_bom": b"\xef\xbb\xbf\xef\xbb\xbf" + good[0] + b"\n" + good[1] + b"\xef\xbb\xbf\n",
        "lone_cr": good[0] + b"\r" + good[1] + b"\n" + good[2] + b"\r\r\n\r\n" + good[3] + b"\n",
        "bad_utf8": b"\n".join(good[:3] + [good[3][:-2] + b'\xff"}', b"\xc3\x28", b"\xef\xbb\xbf\xfe"] + good[4:]),
        "nul_and_controls": good[0] + b"\n\x00\x01\n" + good[1] + b"\n",
        "only_newlines": b"\n\n\n",
        "empty_file": b"",
        "one_line_no_newline": good[0],
        "non_ascii": '{"id": "9", "email": "żółć@shop.example"}\n'.encode() + good[0] + b"\n",
    }


def _loaded_lines(con: duckdb.DuckDBPyConnection, path: Path) -> dict[int, str | None]:
    """line number -> raw text of a quarantined line, or None for a loaded one."""
    rows = con.execute(
        "select _line_number, null from raw.crm__owners where _file_path = ? "
        "union all select line_number, raw_line from audit.quarantine where file_path = ?",
        [str(path), str(path)],
    ).fetchall()
    numbers = [n for n, _ in rows]
    assert len(numbers) == len(set(numbers)), "a line is in two places"
    return dict(rows)


def _check_against_reference(con: duckdb.DuckDBPyConnection, path: Path, data: bytes) -> None:
    expected = _reference(data)
    got = _loaded_lines(con, path)
    assert sorted(got) == [n for n, _, _ in expected]
    for number, text, utf8 in expected:
        if got[number] is None:  # loaded: it was this record
            assert utf8 and json.loads(text)["id"]
        elif utf8:
            assert got[number] == text
        else:
            assert got[number] == text
            reason = con.execute(
                "select reason_code from audit.quarantine where file_path = ? and line_number = ?",
                [str(path), number],
            ).fetchone()
            assert reason == ("bad_encoding",)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("shape", sorted(_shapes()))
def test_every_shape_is_numbered_as_a_line_reader_numbers_it(tmp_path: Path, shape: str, gz: bool) -> None:
    data = _shapes()[shape]
    folder = tmp_path / "crm" / "owners" / f"dt={DT}"
    folder.mkdir(parents=True)
    path = folder / ("part-0001.jsonl.gz" if gz else "part-0001.jsonl")
    path.write_bytes(gzip.compress(data) if gz else data)
    con = duckdb.connect()
    result = load_partition(con, OWNERS, tmp_path, DT)
    assert result.lines_read == len(_reference(data)) == result.rows_loaded + result.rows_quarantined
    _check_against_reference(con, path, data)


def test_lines_across_read_blocks_keep_their_numbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks of 1 kB: lines straddle block boundaries, a bad UTF-8 line sits in the middle of
    # a block, another line is longer than a block, CRs and BOMs fall anywhere.
    monkeypatch.setattr(loader, "_READ_CHUNK", 1024)
    lines = []
    for n in range(1, 400):
        line = _record(n)
        if n % 37 == 0:
            line = b"\xef\xbb\xbf" + line + b"\r"
        if n % 53 == 0:
            line = line[:-2] + b'\xe9"}'
        if n == 200:
            line = json.dumps(owner("200", "x" * 5000 + "@shop.example")).encode()
        if n % 71 == 0:
            line = b""
        lines.append(line)
    data = b"\n".join(lines)
    for name, blob in (("part-0001.jsonl", data), ("part-0002.jsonl.gz", gzip.compress(data))):
        folder = tmp_path / "crm" / "owners" / f"dt={DT}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(blob)
    con = duckdb.connect()
    result = load_partition(con, OWNERS, tmp_path, DT)
    assert result.lines_read == 2 * 399
    for name in ("part-0001.jsonl", "part-0002.jsonl.gz"):
        _check_against_reference(con, tmp_path / "crm" / "owners" / f"dt={DT}" / name, data)
    bad = con.execute("select count(*) from audit.quarantine where reason_code = 'bad_encoding'").fetchone()
    assert bad == (2 * 7,)  # lines 53, 106, ..., 371 of each file


def test_a_truncated_gzip_keeps_the_complete_lines_before_the_damage(tmp_path: Path) -> None:
    data = b"\n".join(_record(n) for n in range(1, 2001)) + b"\n"
    packed = zlib.compressobj(9, zlib.DEFLATED, 31)
    blob = packed.compress(data) + packed.flush()
    folder = tmp_path / "crm" / "owners" / f"dt={DT}"
    folder.mkdir(parents=True)
    path = folder / "part-0001.jsonl.gz"
    path.write_bytes(blob[: len(blob) // 2])
    con = duckdb.connect()
    result = load_partition(con, OWNERS, tmp_path, DT)
    with gzip.open(path) as handle:  # what a reader gets before the error
        before = b""
        with pytest.raises(EOFError):
            while chunk := handle.read1(1 << 10):
                before += chunk
    complete = before[: before.rfind(b"\n") + 1]
    kept = _reference(complete)
    assert result.lines_read == len(kept) + 1 and result.rows_loaded == len(kept)
    got = _loaded_lines(con, path)
    assert sorted(got) == [n for n, _, _ in kept] + [len(kept) + 1]
    reason = con.execute("select reason from audit.quarantine where line_number = ?", [len(kept) + 1]).fetchone()
    assert reason is not None and f"uncompressed byte offset {len(complete)} is lost" in reason[0]


def test_days_loaded_together_equal_days_loaded_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    days = ["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-05"]
    for i, dt in enumerate(days[:3]):  # 2025-03-05 has no folder: an empty partition
        folder = tmp_path / "crm" / "owners" / f"dt={dt}"
        folder.mkdir(parents=True)
        (folder / "part-0001.jsonl").write_bytes(b"\n".join(_record(10 * i + n) for n in range(1, 6)) + b"\nnope\n")
        (folder / "notes.txt").write_text("stray")
    one, together = duckdb.connect(), duckdb.connect()
    singles = [load_partition(one, OWNERS, tmp_path, dt) for dt in days]
    monkeypatch.setattr(loader, "LOAD_GROUP_BYTES", 500)  # about two days per group
    grouped = load_partitions(together, OWNERS, tmp_path, days)
    assert [(r.dt, r.files, r.lines_read, r.rows_loaded, r.rows_quarantined) for r in grouped] == [
        (r.dt, r.files, r.lines_read, r.rows_loaded, r.rows_quarantined) for r in singles
    ]
    assert [(r.dt, r.files, r.lines_read, r.rows_loaded) for r in grouped] == [
        ("2025-03-01", 1, 7, 5),
        ("2025-03-02", 1, 7, 5),
        ("2025-03-03", 1, 7, 5),
        ("2025-03-05", 0, 0, 0),
    ]
    for sql in (
        "select record_id, record::varchar, _dt, _file_path, _line_number from raw.crm__owners order by all",
        "select dt, file_path, line_number, raw_line, reason from audit.quarantine order by all",
        "select source, entity, dt, files, lines_read, rows_loaded, rows_quarantined from audit.load_counts "
        "order by all",
    ):
        assert one.execute(sql).fetchall() == together.execute(sql).fetchall()
    # loading again replaces every day: nothing doubles
    load_partitions(together, OWNERS, tmp_path, days)
    assert together.execute("select count(*) from raw.crm__owners").fetchone() == (15,)
    assert together.execute("select count(*) from audit.quarantine").fetchone() == (6,)


def test_day_batches_cut_the_days_by_landing_size(tmp_path: Path) -> None:
    sizes = {"2025-03-01": 300, "2025-03-02": 300, "2025-03-03": 900, "2025-03-04": 100}
    for dt, size in sizes.items():
        folder = tmp_path / "crm" / "owners" / f"dt={dt}"
        folder.mkdir(parents=True)
        (folder / "part-0001.jsonl").write_bytes(b"x" * size)
    days = [*sizes, "2025-03-05", "2025-03-01"]  # 03-05 has no folder; 03-01 again is dropped
    # 300 + 300 fit in 700; 900 is over the limit and a batch of its own; 100 + 0 bytes share one
    assert list(day_batches(OWNERS, tmp_path, days, max_bytes=700)) == [
        ["2025-03-01", "2025-03-02"],
        ["2025-03-03"],
        ["2025-03-04", "2025-03-05"],
    ]
    assert list(day_batches(OWNERS, tmp_path, [], max_bytes=700)) == []
