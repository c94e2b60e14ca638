"""Every case of the hardening issue injected at once into one landing zone, then ONE `journey run`.

On top of the hand-worked scenario of test_pipeline_e2e (two days, every source), the landing
zone gets: money "1e308" and "NaN", quantities "two" and -3, a 3e9 s call, a call answered
24.5 h after it started, a BOM before a valid record, bare NaN / Infinity tokens, an email with
a tab, two versions of one order with the same updatedAt, an erased contact with a sign-up,
bad dt= folders with files in them, files that are no landing files and a sub-folder inside a
dt= folder, a truncated .jsonl.gz, a history day 2024-08-01 holding a 1997 EUR order, and a run
left STARTED by a killed journey process. The run must finish (exit 0 with a lenient
threshold), build every mart, account for every line and every file, and say why each bad
value was rejected.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from conftest import ROOT, run_journey
from landing_builder import LandingBuilder, call, contact, order, review, track
from test_pipeline_e2e import D1, D2, build_scenario, lenient_config

from dagster_project.lib.landing import ENTITIES
from dagster_project.orchestration.recovery import HOST_TAG, PID_TAG

OLD = "2024-08-01"
ERASED = "990077"  # an id that can only appear in a mart if erasure leaked it


def _with(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    target: Any = out
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[keys[-1]] = value
    return out


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


def _write(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# (file relative to the landing zone, line number, reason the loader must give)
EXPECTED_REASONS: list[tuple[str, int, str]] = [
    (
        f"crm/orders/dt={D2}/part-0002.jsonl",
        1,
        "out_of_range: properties.hs_total_price does not fit DECIMAL(28,6): 1e308",
    ),
    (
        f"crm/orders/dt={D2}/part-0002.jsonl",
        2,
        "wrong_type: properties.hs_total_price should be a finite number, got NaN",
    ),
    (
        f"crm/orders/dt={D2}/part-0002.jsonl",
        3,
        "wrong_type: line_items[*].properties.quantity should be a whole number, got two",
    ),
    (
        f"cart_events/tracks/dt={D2}/part-0002.jsonl",
        1,
        "wrong_type: properties.quantity should be a whole number, got two",
    ),
    (f"cart_events/tracks/dt={D2}/part-0002.jsonl", 2, "out_of_range: properties.quantity is below 0: -3"),
    (f"calls/calls/dt={D2}/part-0002.jsonl", 1, "out_of_range: duration does not fit INTEGER: 3000000000"),
    (
        f"calls/calls/dt={D2}/part-0002.jsonl",
        2,
        "out_of_range: answered_at is 88200 s after started_at (allowed 0..86400)",
    ),
    (f"reviews/reviews/dt={D2}/part-0002.jsonl", 2, "bad_json: NaN or Infinity is not a JSON number: "),
    (f"reviews/reviews/dt={D2}/part-0002.jsonl", 3, "bad_json: NaN or Infinity is not a JSON number: "),
    (f"crm/orders/dt={D1}/notes.json", 0, "unexpected_file: "),
    (f"crm/orders/dt={D1}/orders.ndjson", 0, "unexpected_file: "),
    (f"crm/orders/dt={D1}/PART-0002.JSONL", 0, "unexpected_file: "),
    (f"crm/orders/dt={D1}/part-0003.jsonl.gz.tmp", 0, "unexpected_file: "),
    (f"crm/orders/dt={D1}/retry", 0, "unexpected_folder: "),
]
GZ = f"reviews/reviews/dt={D2}/part-0003.jsonl.gz"


def build_hostile_landing(root: Path) -> Path:
    landing = build_scenario(root)
    b = LandingBuilder(root)  # more lines in the scenario's part-0001 files would rewrite them: add new files
    base = order("901", "1", f"{D2} 10:00", total="10.00", items=[("P-1", "5.00", "2")])
    _write(
        landing / "crm" / "orders" / f"dt={D2}" / "part-0002.jsonl",
        [
            _line(_with(base, "properties.hs_total_price", "1e308")),
            _line(_with(base, "properties.hs_total_price", "NaN")),
            _line(_with(base, "line_items.0.properties.quantity", "two")),
            # two versions of order 903 at the same updatedAt with different totals: the later line wins, WARN
            _line(order("903", "1", f"{D2} 11:00", total="40.00", items=[("P-1", "40.00", "1")])),
            _line(order("903", "1", f"{D2} 11:00", total="45.00", items=[("P-1", "45.00", "1")])),
            _line(order("902", "3", f"{D2} 09:00", total="20.00", items=[("P-1", "20.00", "1")])),
        ],
    )
    cart = track(
        "m-9",
        "Product Added",
        f"{D2}T09:00:00Z",
        anonymous_id="a-9",
        cart_id="c-9",
        product_id="P-1",
        price=5.0,
        quantity=1,
    )
    _write(
        landing / "cart_events" / "tracks" / f"dt={D2}" / "part-0002.jsonl",
        [
            _line(_with(cart, "properties.quantity", "two")),
            _line(_with(cart, "properties.quantity", -3)),
        ],
    )
    long_call = call(900001, f"{D1} 10:00", answered_after=88200)  # answered 24.5 h after it started
    _write(
        landing / "calls" / "calls" / f"dt={D2}" / "part-0002.jsonl",
        [
            _line(_with(call(900000, f"{D2} 10:00"), "duration", 3_000_000_000)),
            _line(long_call),
        ],
    )
    valid_review = _line(review("rv-2", f"{D2} 06:00", stars=5))
    _write(
        landing / "reviews" / "reviews" / f"dt={D2}" / "part-0002.jsonl",
        [
            "\ufeff" + valid_review,  # a byte-order mark before a valid record: loads
            '{"id": "rv-3", "source": "trustpilot", "stars": NaN, "createdAt": "2025-03-02T06:00:00Z"}',
            '{"id": "rv-4", "source": "trustpilot", "stars": 4, "createdAt": "2025-03-02T06:00:00Z", "w": Infinity}',
        ],
    )
    # contacts: an email wrapped in spaces and a tab; an erased contact with a sign-up
    _write(
        landing / "crm" / "contacts" / f"dt={D1}" / "part-0002.jsonl",
        [
            _line(contact("3", f"{D1} 08:00", email="  A@B.COM \t")),
            _line(contact(ERASED, f"{D1} 08:30", email="gone@example.com")),
        ],
    )
    _write(
        landing / "crm" / "contacts" / f"dt={D2}" / "part-0002.jsonl",
        [
            _line(contact(ERASED, f"{D2} 08:30", email="gone@example.com", created=f"{D1} 08:30", archived=True)),
        ],
    )
    # folders whose name is no partition, each with a file
    for bad in ("crm/contacts/dt=garbage", "reviews/reviews/dt=2025-02-30", "calls/calls/dt=2025-01-07.bak"):
        _write(landing / bad / "part-0001.jsonl", ["{}"])
    # names inside a valid dt= folder that are no landing files, and a sub-folder with a file
    folder = landing / "crm" / "orders" / f"dt={D1}"
    for name in ("notes.json", "orders.ndjson", "PART-0002.JSONL", "part-0003.jsonl.gz.tmp"):
        (folder / name).write_text(_line(order("950", "1", f"{D1} 12:00", total="1.00")) + "\n")
    _write(folder / "retry" / "part-0001.jsonl", [_line(order("951", "1", f"{D1} 12:00", total="1.00"))])
    # a .jsonl.gz cut short: the lines decoded before the cut load
    gz_lines = [_line(review(f"rv-gz-{n}", f"{D2} 07:00", stars=4)) for n in range(400)]
    packed = gzip.compress(("\n".join(gz_lines) + "\n").encode())
    (landing / GZ).write_bytes(packed[: len(packed) // 2])
    # history: an initial export day long before the rest, with an order of 1997 in EUR
    b.add("crm", "orders", OLD, order("1997", None, "1997-05-01 12:00", total="29.99", items=[("P-1", "29.99", "1")]))
    b.write()
    return landing


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


def _mart_names() -> set[str]:
    """Every dbt model in schema marts, from the manifest, plus the Python mart."""
    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    models = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts" and n["config"].get("enabled", True)
    }
    return models | {"mart_customer_ltv"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str], str]:
    root = tmp_path_factory.mktemp("hostile")
    landing = build_hostile_landing(root / "landing")
    db = root / "warehouse.duckdb"
    config = str(lenient_config(root / "orchestration.yaml", threshold=1.0))
    instance = dg.DagsterInstance.get()
    ghost = instance.create_run_for_job(
        dg.GraphDefinition(name="ghost", node_defs=[]).to_job(),
        status=dg.DagsterRunStatus.STARTED,
        tags={PID_TAG: str(_dead_pid()), HOST_TAG: socket.gethostname()},
    )
    result = run_journey("run", "--landing", str(landing), "--warehouse", str(db), "--config", config)
    return landing, db, result, ghost.run_id


def _rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_the_run_finishes_and_builds_every_mart(hostile) -> None:
    landing, db, result, ghost = hostile
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "Result: success" in out
    assert f"partitions {OLD} .. {D2}" in out  # history before any configured date loads
    assert ghost in out and "Marked failed: 1 run(s)" in out
    assert dg.DagsterInstance.get().get_run_by_id(ghost).status == dg.DagsterRunStatus.FAILURE
    built = {
        name for (name,) in _rows(db, "select table_name from information_schema.tables where table_schema = 'marts'")
    }
    missing = _mart_names() - built
    assert not missing, missing


def test_every_line_and_every_file_is_accounted_for(hostile) -> None:
    landing, db, result, _ = hostile
    counts = _rows(
        db, "select source, entity, dt::varchar, lines_read, rows_loaded, rows_quarantined from audit.load_counts"
    )
    unbalanced = [c for c in counts if c[3] != c[4] + c[5]]
    assert not unbalanced, unbalanced
    counted = {p for (p,) in _rows(db, "select distinct file_path from audit.quarantine")}
    for e in ENTITIES:
        counted |= {p for (p,) in _rows(db, f"select distinct _file_path from {e.raw_table}")}
    reported = {p for (p,) in _rows(db, "select path from audit.landing_problems")}
    reported |= {line.split(": ")[1] for line in result.stdout.splitlines() if line.startswith("Not loaded: ")}
    known = counted | reported
    unaccounted = [
        str(f) for f in sorted(landing.rglob("*")) if f.is_file() and not any(str(p) in known for p in (f, *f.parents))
    ]
    assert not unaccounted, unaccounted
    for bad in ("crm/contacts/dt=garbage", "reviews/reviews/dt=2025-02-30", "calls/calls/dt=2025-01-07.bak"):
        assert str(landing / bad) in reported, bad
        assert str(landing / bad / "part-0001.jsonl") not in counted  # reported, never loaded


def test_each_bad_value_has_its_own_reason(hostile) -> None:
    landing, db, _, _ = hostile
    got = {
        (path, line): reason
        for path, line, reason in _rows(db, "select file_path, line_number, reason from audit.quarantine")
    }
    for relative, line, reason in EXPECTED_REASONS:
        key = (str(landing / relative), line)
        assert key in got, (relative, line)
        assert got[key].startswith(reason), (relative, got[key])
    # the truncated gzip: every line before the cut loaded, then one row saying how much was lost
    survived = _rows(db, "select count(*) from raw.reviews__reviews where _file_path = ?", [str(landing / GZ)])[0][0]
    assert 0 < survived < 400
    gz = got[(str(landing / GZ), survived + 1)]
    assert gz.startswith("unreadable_file: ") and "uncompressed byte offset" in gz and "is lost" in gz
    # nothing else was quarantined: the valid records around the bad ones all loaded
    assert len(got) == len(EXPECTED_REASONS) + 1 + 2  # + the gzip + the scenario's own two bad lines


def test_good_records_next_to_bad_ones_load(hostile) -> None:
    _, db, _, _ = hostile
    reviews = {r for (r,) in _rows(db, "select record_id from raw.reviews__reviews")}
    assert {"rv-1", "rv-2", "rv-gz-0"} <= reviews  # after a BOM; before the gzip cut
    assert _rows(db, "select count(*) from raw.crm__orders where record_id = '1997'") == [(1,)]
    # the 1997 EUR order is converted at 1 (no rate needed in the reporting currency)
    assert _rows(db, "select fx_rate from intermediate.int_orders_converted where order_id = '1997'") == [(1,)]
    # the tab and spaces around the e-mail are trimmed before it is hashed
    assert _rows(db, "select email_sha256 from marts.dim_customers where customer_id = '3'") == [
        (hashlib.sha256(b"a@b.com").hexdigest(),)
    ]


def test_same_updated_at_conflict_is_warned_and_the_later_line_wins(hostile) -> None:
    _, db, result, _ = hostile
    assert any(
        line.strip().startswith("WARN ") and "assert_no_conflicting_order_versions" in line
        for line in result.stdout.splitlines()
    ), result.stdout
    assert _rows(db, "select total_amount from staging.stg_crm__orders where order_id = '903'") == [(45,)]


def test_no_id_of_the_erased_contact_in_any_mart(hostile) -> None:
    _, db, _, _ = hostile
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        ).fetchall()
        for table, column in columns:
            hits = con.execute(
                f'select count(*) from marts."{table}" where cast("{column}" as varchar) like ?', [f"%{ERASED}%"]
            ).fetchone()
            assert hits == (0,), (table, column)
        # it did sign up: the sign-up is still a touchpoint, without the id
        assert (
            con.execute(
                "select count(*) from marts.fct_customer_journey where touchpoint = 'signed_up' and customer_id is null"
            ).fetchone()[0]
            >= 2
        )
