"""Reruns are idempotent, a backfill equals day-by-day runs, and late events land on their event day.

Landing zone: the hand-worked scenario of test_pipeline_e2e (2025-03-01, 2025-03-02) plus a
third day, 2025-03-03, that delivers (a) a Segment cart event that happened on 2025-03-01
(an offline app syncing late) and (b) a re-send of an event first delivered on 2025-03-01.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import run_journey
from landing_builder import LandingBuilder, track
from test_pipeline_e2e import build_scenario, lenient_config

D1, D2, D3 = "2025-03-01", "2025-03-02", "2025-03-03"


def _landing(root: Path) -> Path:
    landing = build_scenario(root)
    b = LandingBuilder(root)
    late = track(
        "m-late",
        "Product Added",
        "2025-03-01T23:50:00+02:00",
        anonymous_id="a-9",
        cart_id="c-late",
        received="2025-03-03T08:00:00.000Z",
        product_id="P-1",
        price=59.95,
        quantity=1,
    )
    resend = track(
        "m-1",
        "Product Added",
        "2025-03-01T11:15:00.123+01:00",
        anonymous_id="a-7",
        cart_id="c-1",
        received="2025-03-03T08:00:01.000Z",
        product_id="P-1",
        price=59.95,
        quantity=1,
    )
    b.add("cart_events", "tracks", D3, late).add("cart_events", "tracks", D3, resend)
    (landing / "cart_events" / "tracks" / f"dt={D3}").mkdir(parents=True, exist_ok=True)
    b.write()
    return landing


def checksums(db: Path) -> dict[str, str]:
    """An order-independent checksum of every mart table's full contents."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {
            t: con.execute(
                f"select count(*) || ':' || coalesce(md5(string_agg(cast(m as varchar), '|' "
                f"order by cast(m as varchar))), '') from marts.\"{t}\" as m"
            ).fetchone()[0]
            for t in tables
        }
    finally:
        con.close()


def _journey(db: Path, landing: Path, config: Path, *args: str) -> None:
    result = run_journey(*args, "--landing", str(landing), "--warehouse", str(db), "--config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("idempotency")
    landing = _landing(root / "landing")
    config = lenient_config(root / "orchestration.yaml", threshold=1.0)
    return root, landing, config


def test_rerun_is_idempotent_and_backfill_equals_single_days(setup: tuple[Path, Path, Path]) -> None:
    root, landing, config = setup
    whole = root / "whole.duckdb"
    _journey(whole, landing, config, "run")
    first = checksums(whole)
    assert {"fct_customer_journey", "dim_customers", "mart_nps_daily", "mart_customer_ltv"} <= set(first)
    _journey(whole, landing, config, "run")
    assert checksums(whole) == first  # same landing zone, same marts, byte for byte
    _journey(whole, landing, config, "backfill", "--start", D1, "--end", D3)
    assert checksums(whole) == first  # a backfill over days already built changes nothing

    day_by_day = root / "day_by_day.duckdb"
    for day in (D1, D2, D3):
        _journey(day_by_day, landing, config, "backfill", "--start", day, "--end", day)
    assert checksums(day_by_day) == first  # incremental day by day (the late event included) = one run
    _journey(day_by_day, landing, config, "run", "--full-refresh")
    assert checksums(day_by_day) == first  # and = rebuilding the incremental models from scratch


def test_late_event_lands_on_its_event_day(setup: tuple[Path, Path, Path]) -> None:
    root, landing, config = setup
    db = root / "late.duckdb"
    _journey(db, landing, config, "run", "--as-of", D2)  # as known at the end of D2: not arrived yet
    con = duckdb.connect(str(db), read_only=True)
    assert (
        con.execute("select count(*) from marts.fct_customer_journey where source_record_id = 'c-late'").fetchone()[0]
        == 0
    )
    con.close()
    _journey(db, landing, config, "backfill", "--start", D3, "--end", D3)  # D3 arrives, carrying the late event
    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute(
        "select touchpoint, event_date::varchar, occurred_at::varchar from marts.fct_customer_journey "
        "where source_record_id = 'c-late' order by occurred_at"
    ).fetchall()
    # 23:50 at +02:00 on 1 March is 21:50 UTC on 1 March: its event day, not its arrival day
    assert rows[0] == ("cart_started", D1, "2025-03-01 21:50:00")
    # the re-sent m-1 did not create a second event, and kept its first delivery
    assert con.execute(
        "select count(*), min(received_dt)::varchar from staging.stg_cart_events__tracks where message_id = 'm-1'"
    ).fetchone() == (1, D1)
    con.close()
