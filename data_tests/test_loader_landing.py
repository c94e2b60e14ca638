"""Folders, files and bytes of the landing zone: strange names are reported, never a crash,
never silence; a BOM is stripped; a truncated gzip says how much it lost."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime
from pathlib import Path

import duckdb
from landing_builder import LandingBuilder, owner, review

from dagster_project.extract.loader import load_partition
from dagster_project.lib.landing import entity, inventory, landing_problems, partitions_present
from dagster_project.quality import checks

DT = "2025-03-02"


def _owners(root: Path, *lines: str) -> Path:
    b = LandingBuilder(root)
    for line in lines:
        b.add("crm", "owners", DT, line)
    return b.write() / "crm" / "owners" / f"dt={DT}" / "part-0001.jsonl"


def test_a_bom_is_stripped_at_the_start_of_the_file_and_of_a_line(tmp_path: Path) -> None:
    one, two, three = (json.dumps(owner(str(n), f"o{n}@shop.example")) for n in (1, 2, 3))
    path = _owners(tmp_path, "\ufeff" + one, "\ufeff" + two, "  " + three + " \t", one + "\ufeff")
    con = duckdb.connect()
    result = load_partition(con, entity("crm", "owners"), tmp_path, DT)
    # lines 1-2: BOM stripped; line 3: spaces and tabs around a record are fine; line 4: a BOM
    # after the record is not at the start of the line: the line is not JSON
    assert (result.lines_read, result.rows_loaded, result.rows_quarantined) == (4, 3, 1)
    line, reason = con.execute("select line_number, reason from audit.quarantine").fetchone()
    assert line == 4 and reason.startswith("bad_json:")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")


def _zone_with_strange_names(root: Path) -> Path:
    LandingBuilder(root).add("crm", "owners", DT, owner("1", "a@shop.example")).add(
        "reviews", "reviews", DT, review("r1", "2025-03-02 01:00", stars=3)
    ).write()
    owners = root / "crm" / "owners"
    for bad in ("dt=garbage", "dt=2025-02-30", "dt=2025-01-07.bak"):
        (owners / bad).mkdir()
        (owners / bad / "part-0001.jsonl").write_text(json.dumps(owner("9", "z@shop.example")) + "\n")
    (owners / "notes.txt").write_text("hello")
    (root / "crm" / "refunds" / f"dt={DT}").mkdir(parents=True)
    (root / "surveys").mkdir()
    part = owners / f"dt={DT}"
    for name in ("extra.json", "extra.ndjson", "EXTRA.JSONL", "part-0002.jsonl.gz.tmp", ".part-0003.jsonl"):
        (part / name).write_text(json.dumps(owner("5", "x@shop.example")) + "\n")
    (part / "nested").mkdir()
    return root


def test_the_inventory_keeps_valid_days_and_reports_everything_else(tmp_path: Path) -> None:
    root = _zone_with_strange_names(tmp_path)
    found = inventory(root)
    assert found.partitions == [DT] == partitions_present(root)
    reasons = {str(p.path.relative_to(root)): p.reason.split(":")[0] for p in found.problems}
    part = f"crm/owners/dt={DT}"
    assert reasons == {
        "crm/owners/dt=garbage": "bad_partition",
        "crm/owners/dt=2025-02-30": "bad_partition",
        "crm/owners/dt=2025-01-07.bak": "bad_partition",
        "crm/owners/notes.txt": "bad_partition",
        "crm/refunds": "unknown_entity",
        "surveys": "unknown_source",
        f"{part}/extra.json": "unexpected_file",
        f"{part}/extra.ndjson": "unexpected_file",
        f"{part}/EXTRA.JSONL": "unexpected_file",
        f"{part}/part-0002.jsonl.gz.tmp": "unexpected_file",
        f"{part}/.part-0003.jsonl": "unexpected_file",
        f"{part}/nested": "unexpected_folder",
    }
    # problems inside a valid partition carry it (the loader counts them there)
    inside = {p.path.name for p in found.problems if p.dt == DT}
    assert inside == {
        "extra.json",
        "extra.ndjson",
        "EXTRA.JSONL",
        "part-0002.jsonl.gz.tmp",
        ".part-0003.jsonl",
        "nested",
    }


def test_an_unexpected_file_in_a_partition_is_one_quarantine_row(tmp_path: Path) -> None:
    root = _zone_with_strange_names(tmp_path)
    con = duckdb.connect()
    result = load_partition(con, entity("crm", "owners"), root, DT)
    assert (result.files, result.lines_read, result.rows_loaded, result.rows_quarantined) == (1, 7, 1, 6)
    rows = con.execute("select file_path, line_number, reason_code from audit.quarantine order by 1").fetchall()
    assert {(Path(f).name, n, c) for f, n, c in rows} == {
        ("extra.json", 0, "unexpected_file"),
        ("extra.ndjson", 0, "unexpected_file"),
        ("EXTRA.JSONL", 0, "unexpected_file"),
        ("part-0002.jsonl.gz.tmp", 0, "unexpected_file"),
        (".part-0003.jsonl", 0, "unexpected_file"),
        ("nested", 0, "unexpected_folder"),
    }


def test_names_outside_any_partition_are_recorded_and_warned(tmp_path: Path) -> None:
    root = _zone_with_strange_names(tmp_path)
    con = duckdb.connect()
    e = entity("crm", "owners")
    at = datetime(2025, 3, 3, 2, 0)
    kept = checks.record_landing_problems(con, e, root, landing_problems(root, only=e, contents=False), at)
    stored = con.execute("select path, split_part(reason, ':', 1), entity from audit.landing_problems").fetchall()
    assert {(str(Path(p).relative_to(root)), code, ent) for p, code, ent in stored} == {
        ("crm/owners/dt=garbage", "bad_partition", "crm__owners"),
        ("crm/owners/dt=2025-02-30", "bad_partition", "crm__owners"),
        ("crm/owners/dt=2025-01-07.bak", "bad_partition", "crm__owners"),
        ("crm/owners/notes.txt", "bad_partition", "crm__owners"),
        ("crm/refunds", "unknown_entity", None),
        ("surveys", "unknown_source", None),
    }
    outcome = checks.landing_problems_check(e, kept)
    assert (outcome.passed, outcome.severity, outcome.failing_count) == (False, "WARN", 6)
    # the reviews extract sees only the names outside every entity folder
    reviews = entity("reviews", "reviews")
    kept = checks.record_landing_problems(con, reviews, root, landing_problems(root, only=reviews), at)
    assert len(kept) == 2
    assert con.execute("select count(*) from audit.landing_problems").fetchone() == (6,)
    # fixed on disk: the next extract clears them
    for bad in ("dt=garbage", "dt=2025-02-30", "dt=2025-01-07.bak"):
        (root / "crm" / "owners" / bad / "part-0001.jsonl").unlink()
        (root / "crm" / "owners" / bad).rmdir()
    checks.record_landing_problems(con, e, root, landing_problems(root, only=e, contents=False), at)
    assert con.execute("select count(*) from audit.landing_problems where entity = 'crm__owners'").fetchone() == (1,)


def test_a_truncated_gzip_keeps_what_came_before_and_says_what_it_lost(tmp_path: Path) -> None:
    folder = tmp_path / "crm" / "owners" / f"dt={DT}"
    folder.mkdir(parents=True)
    lines = [json.dumps(owner(str(n), f"o{n}@shop.example") | {"pad": "x" * 50}) for n in range(200)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
    path = folder / "part-0001.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 2 // 3])
    con = duckdb.connect()
    result = load_partition(con, entity("crm", "owners"), tmp_path, DT)
    loaded = result.rows_loaded
    assert 0 < loaded < 200
    assert result.lines_read == loaded + 1 and result.rows_quarantined == 1
    line, reason = con.execute("select line_number, reason from audit.quarantine").fetchone()
    assert line == loaded + 1
    assert reason.startswith("unreadable_file: EOFError")
    # the numbers in the reason: uncompressed offset of the loss, first lost line, bytes of it
    # decoded and dropped, bytes on disk consumed of the file's size
    decoded_text = "\n".join(lines).encode()
    complete = sum(len(raw) + 1 for raw in decoded_text.split(b"\n")[:loaded])
    offset, first_lost, dropped, consumed, size = (int(n) for n in re.findall(r"\d+", reason.split(";", 1)[1]))
    assert (offset, first_lost) == (complete, loaded + 1)
    assert 0 <= dropped < len(lines[loaded]) + 1
    assert (consumed, size) == (path.stat().st_size, path.stat().st_size)  # truncated: all on disk was read
