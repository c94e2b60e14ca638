"""The values that used to fail a dbt cast are quarantined by the loader, so the staging models build.

A landing zone holding every formerly fatal value of test_loader_values (a 1e308 total, a
quantity "two", a duration of 3e9 seconds, ...) beside good records is loaded, then
`dbt build --select staging` runs on it: before the value table, each of these lines
stopped the build with a cast error. The staging columns' types are also compared with the
loader's SQL_TYPES, so the loader checks exactly the type dbt casts to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
from landing_builder import LandingBuilder
from test_loader_values import _GOOD, CASES, DT

from dagster_project.extract.loader import ensure_schemas, load_partition
from dagster_project.lib.landing import ENTITIES, SQL_TYPES, entity

ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")


def test_formerly_fatal_values_no_longer_stop_the_staging_build(tmp_path: Path) -> None:
    b = LandingBuilder(tmp_path / "landing")
    for folder, good in _GOOD.items():
        b.add(*folder.split("/"), DT, good)
    for folder, _label, bad, _reason in CASES:
        b.add(*folder.split("/"), DT, bad)
    b.write()
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    ensure_schemas(con, ENTITIES)
    quarantined = 0
    for folder in _GOOD:
        quarantined += load_partition(con, entity(*folder.split("/")), tmp_path / "landing", DT).rows_quarantined
    assert quarantined == len(CASES)
    con.close()

    built = subprocess.run(
        [
            DBT,
            "build",
            "--select",
            "staging",
            "--indirect-selection",
            "cautious",
            "--exclude-resource-type",
            "unit_test",
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--vars",
            json.dumps({"as_of": DT}),
        ],
        cwd=ROOT / "dbt_project",
        capture_output=True,
        text=True,
        timeout=900,
        env=os.environ | {"JOURNEY_WAREHOUSE": str(warehouse), "DO_NOT_TRACK": "1"},
    )
    assert built.returncode == 0, built.stdout[-4000:]

    con = duckdb.connect(str(warehouse), read_only=True)
    types = dict(
        con.execute(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema like '%staging'"
        ).fetchall()
    )
    # one column per landing_fields type, as dbt built it
    assert types["stg_crm__order_versions.total_amount"] == SQL_TYPES["numeric"]
    assert types["stg_crm__order_line_items.quantity"] == SQL_TYPES["integer"]
    assert types["stg_cart_events__tracks.price"] == SQL_TYPES["double"]
    assert types["stg_reviews__reviews.is_verified"] == SQL_TYPES["boolean"]
    assert types["stg_crm__tickets.closed_at"] == SQL_TYPES["iso_timestamp"]
    assert types["stg_calls__calls.answered_at"] == SQL_TYPES["unix_timestamp"]
    # only the good records arrived
    assert con.execute("select count(*), sum(quantity) from staging.stg_crm__order_line_items").fetchone() == (1, 2)
    assert con.execute("select count(*) from staging.stg_calls__calls").fetchone() == (1,)
