"""A contact erased on a later day, when the marts of the day before already hold them.

Day 1: contacts 7301 and 7302 sign up and each places an order, so both are in every
customer mart, mart_customer_ltv included. Day 2: contact 7301 is erased (archived). The
nightly build of day 2 must pass its privacy test and publish, although, while dbt runs,
mart_customer_ltv (written by the Python LTV step after dbt) still holds day 1's rows; after
the run no mart holds 7301 any more.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from conftest import run_journey
from landing_builder import LandingBuilder, contact, order, product
from test_pipeline_e2e import lenient_config

D1, D2 = "2025-03-03", "2025-03-04"
ERASED, KEPT = "7301", "7302"


def test_a_contact_erased_in_a_nightly_run_leaves_no_id_and_the_run_publishes(tmp_path: Path) -> None:
    b = LandingBuilder(tmp_path / "landing")
    b.add("crm", "products", D1, product("P-1", f"{D1} 00:00", category="footwear", price="50.00"))
    for cid, minute in ((ERASED, "00"), (KEPT, "05")):
        b.add("crm", "contacts", D1, contact(cid, f"{D1} 09:{minute}", email=f"c{cid}@example.com"))
        b.add(
            "crm",
            "orders",
            D1,
            order(f"9{cid}", cid, f"{D1} 12:{minute}", total="50.00", items=[("P-1", "50.00", "1")]),
        )
    b.add(
        "crm",
        "contacts",
        D2,
        contact(ERASED, f"{D2} 08:00", email=f"c{ERASED}@example.com", created=f"{D1} 09:00", archived=True),
    )
    landing = b.write()
    db = tmp_path / "warehouse" / "journey.duckdb"
    db.parent.mkdir()
    config = str(lenient_config(tmp_path / "orchestration.yaml", threshold=1.0))
    paths = ("--landing", str(landing), "--warehouse", str(db), "--config", config)

    first = run_journey("run", *paths, "--as-of", D1)
    assert first.returncode == 0, first.stdout + first.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        held = {r[0] for r in con.execute("select customer_id from marts.mart_customer_ltv").fetchall()}
    assert held == {ERASED, KEPT}

    nightly = run_journey("backfill", "--start", D2, "--end", D2, *paths)
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    assert "Published: duckdb" in nightly.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        assert [r[0] for r in con.execute("select customer_id from marts.mart_customer_ltv").fetchall()] == [KEPT]
        for table, column in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        ).fetchall():
            hits = con.execute(
                f'select count(*) from marts."{table}" where cast("{column}" as varchar) = ?', [ERASED]
            ).fetchone()
            assert hits == (0,), (table, column)
