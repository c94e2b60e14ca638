"""The publish domain's pieces on small warehouses built here: types, grains, atomic replacement, the swap.

Real DuckDB files and a real PostgreSQL server (postgres_fixture.py); no Dagster run.
"""

from __future__ import annotations

import threading
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest

from dagster_project.lib.config import parse_config
from dagster_project.publish import postgres
from dagster_project.publish.assets import targets_for
from dagster_project.publish.catalog import (
    Mart,
    MartSource,
    PublishError,
    mart_sources,
    published_type,
    resolve_marts,
)
from dagster_project.publish.publication import Targets, publish

MARTS = [
    Mart(
        "mart_orders_daily",
        "One row per day.",
        {"order_date": "UTC day", "revenue": "Net revenue, EUR"},
        {},
        ("order_date",),
    ),
    Mart("mart_events", "One row per event.", {}, {}, ("event_id",)),
]


def _warehouse(path: Path, days: int) -> Path:
    """A warehouse whose marts have the warehouse's awkward types: HUGEINT sums, DECIMAL(38,6)
    money, naive UTC timestamps, NULLs and an empty string."""
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists marts")
    con.execute(f"""
        create or replace table marts.mart_orders_daily as
        select date '2025-03-01' + i::int as order_date, sum(i)::hugeint as orders,
               cast(i * 10.125 as decimal(38,6)) as revenue, i / 3 as avg_items,
               timestamp '2025-03-01 23:30:00' + to_days(i::int) as last_order_at
        from range({days}) t(i) group by i""")
    con.execute(f"""
        create or replace table marts.mart_events as
        select 'e-' || i as event_id, case when i % 2 = 0 then null when i % 3 = 0 then '' else 'x' end as label
        from range({days * 2}) t(i)""")
    con.close()
    return path


def test_published_types() -> None:
    assert published_type("HUGEINT") == "BIGINT"
    assert published_type("DECIMAL(38,6)") == "DECIMAL(18,2)"
    assert published_type("DECIMAL(28,6)") == "DECIMAL(18,2)"
    assert published_type("TIMESTAMP") == "TIMESTAMP WITH TIME ZONE"
    assert published_type("TIMESTAMP WITH TIME ZONE") == "TIMESTAMP WITH TIME ZONE"
    assert published_type("DOUBLE") == "DOUBLE"
    assert published_type("UTINYINT") == "SMALLINT"
    assert published_type("DECIMAL(38,6)", declared="double") == "DOUBLE"  # the yml's data_type wins
    with pytest.raises(PublishError, match="INTEGER\\[\\]"):
        published_type("INTEGER[]")
    assert postgres.postgres_type("DECIMAL(18,2)") == "numeric(18,2)"
    assert postgres.postgres_type("TIMESTAMP WITH TIME ZONE") == "timestamptz"


def test_marts_are_the_assets_in_schema_marts_with_grain_and_descriptions_from_dbt() -> None:
    specs = [
        dg.AssetSpec(
            ["marts", "mart_a"],
            description="dbt's copy",
            metadata={"dagster/table_name": "warehouse.marts.mart_a", "dagster_dbt/unique_id": "model.j.a"},
        ),
        dg.AssetSpec(["intermediate", "int_b"], metadata={"dagster/table_name": "warehouse.intermediate.int_b"}),
        dg.AssetSpec(
            ["marts", "mart_py"],
            description="Python mart.",
            metadata={
                "dagster/table_name": "marts.mart_py",
                "dagster/column_schema": dg.TableSchema(
                    columns=[
                        dg.TableColumn(
                            "customer_id",
                            "VARCHAR",
                            description="The customer.",
                            constraints=dg.TableColumnConstraints(unique=True),
                        ),
                        dg.TableColumn("value", "DOUBLE"),
                    ]
                ),
            },
        ),
    ]
    sources = mart_sources(specs)
    assert [s.table for s in sources] == ["mart_a", "mart_py"]
    manifest = {
        "nodes": {
            "model.j.a": {
                "description": "One row per\n  day x segment.",
                "columns": {
                    "day": {"description": "UTC day", "data_type": None},
                    "amount": {"description": "", "data_type": "decimal(12,4)"},
                },
            },
            "test.j.u1": {
                "resource_type": "test",
                "attached_node": "model.j.a",
                "test_metadata": {"name": "unique_combination", "kwargs": {"columns": ["day", "segment"]}},
            },
            "test.j.nn": {
                "resource_type": "test",
                "attached_node": "model.j.a",
                "test_metadata": {"name": "not_null", "kwargs": {"column_name": "day"}},
            },
        }
    }
    a, py = resolve_marts(sources, manifest)
    assert (a.description, a.grain) == ("One row per day x segment.", ("day", "segment"))
    assert a.column_descriptions == {"day": "UTC day"}
    assert a.declared_types == {"amount": "decimal(12,4)"}
    assert (py.description, py.grain, py.column_descriptions) == (
        "Python mart.",
        ("customer_id",),
        {"customer_id": "The customer."},
    )


def test_targets_default_beside_the_warehouse_and_postgres_only_from_the_environment(tmp_path: Path) -> None:
    config = parse_config({})
    wh = tmp_path / "w" / "journey.duckdb"
    targets = targets_for(config, wh, {})
    assert targets.snapshot == tmp_path / "w" / "serving" / "journey_marts.duckdb"
    assert targets.parquet == tmp_path / "w" / "serving" / "parquet"
    assert targets.postgres_dsn is None
    assert targets_for(config, wh, {"JOURNEY_PG_DSN": "host=db"}).postgres_dsn == "host=db"
    assert postgres.describe("postgresql://bi:s3cret@db.example:6432/cx") == "bi@db.example:6432/cx"
    with pytest.raises(Exception, match="serving.storage_version"):
        parse_config({"serving": {"storage_version": "1.4"}})


def test_snapshot_and_parquet_replace_the_old_ones_while_a_reader_holds_them(tmp_path: Path) -> None:
    targets = Targets(snapshot=tmp_path / "serving" / "journey_marts.duckdb", parquet=tmp_path / "serving" / "pq")
    first = duckdb.connect(str(_warehouse(tmp_path / "a.duckdb", days=3)))
    publish(first, MARTS, targets)
    (targets.parquet / "mart_retired.parquet").write_bytes(b"old")  # a mart no longer published
    reader = duckdb.connect(str(targets.snapshot), read_only=True)
    assert reader.execute("select count(*) from marts.mart_orders_daily").fetchone() == (3,)
    second = duckdb.connect(str(_warehouse(tmp_path / "b.duckdb", days=5)))
    result = publish(second, MARTS, targets)
    assert reader.execute("select count(*) from marts.mart_orders_daily").fetchone() == (3,)  # its snapshot
    reader.close()
    assert result.rows == {"mart_orders_daily": 5, "mart_events": 10}
    fresh = duckdb.connect(str(targets.snapshot), read_only=True)
    row = fresh.execute(
        "select orders, revenue, last_order_at from marts.mart_orders_daily where order_date = date '2025-03-02'"
    ).fetchone()
    types = fresh.execute(
        "select column_name, data_type from duckdb_columns() "
        "where table_name = 'mart_orders_daily' order by column_index"
    ).fetchall()
    comments = fresh.execute(
        "select comment from duckdb_columns() where table_name = 'mart_orders_daily' and column_name = 'revenue'"
    ).fetchone()
    fresh.close()
    assert str(row[1]) == "10.13"  # 10.125 rounded to the cent
    assert row[2].isoformat() == "2025-03-02T23:30:00+00:00"  # the naive timestamp read as UTC
    assert types == [
        ("order_date", "DATE"),
        ("orders", "BIGINT"),
        ("revenue", "DECIMAL(18,2)"),
        ("avg_items", "DOUBLE"),
        ("last_order_at", "TIMESTAMP WITH TIME ZONE"),
    ]
    assert comments == ("Net revenue, EUR",)
    assert sorted(p.name for p in targets.parquet.iterdir()) == ["mart_events.parquet", "mart_orders_daily.parquet"]
    assert sorted(p.name for p in targets.snapshot.parent.iterdir()) == ["journey_marts.duckdb", "pq"]
    assert second.execute("select count(*) from marts.mart_orders_daily").fetchone() == (5,)  # still usable
    first.close()
    second.close()


def test_a_failed_publication_leaves_the_previous_one_and_no_temporary_files(tmp_path: Path) -> None:
    targets = Targets(snapshot=tmp_path / "serving" / "journey_marts.duckdb", parquet=tmp_path / "serving" / "pq")
    con = duckdb.connect(str(_warehouse(tmp_path / "a.duckdb", days=3)))
    publish(con, MARTS, targets)
    before = {p.name: p.stat().st_mtime_ns for p in targets.snapshot.parent.rglob("*")}
    missing = [*MARTS, Mart("mart_missing", "", {}, {}, ())]
    with pytest.raises(PublishError, match="marts.mart_missing is not in the warehouse"):
        publish(con, missing, targets)
    assert {p.name: p.stat().st_mtime_ns for p in targets.snapshot.parent.rglob("*")} == before
    con.close()


def test_postgres_swap_shows_readers_one_whole_publication(tmp_path: Path, postgres_dsn: str) -> None:
    """Publish two different sets of marts alternately while a reader counts the rows of every
    mart in one query, as fast as it can: each answer is the old set's or the new set's."""
    small = duckdb.connect(str(_warehouse(tmp_path / "small.duckdb", days=2)))
    large = duckdb.connect(str(_warehouse(tmp_path / "large.duckdb", days=7)))
    targets = Targets(
        snapshot=tmp_path / "serving" / "journey_marts.duckdb",
        parquet=tmp_path / "serving" / "pq",
        postgres_dsn=postgres_dsn,
        postgres_schema="swap_test",
    )
    publish(small, MARTS, targets)
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute("drop role if exists bi_reader")
        admin.execute("create role bi_reader")
        admin.execute("grant usage on schema swap_test to bi_reader")
        admin.execute("grant select on all tables in schema swap_test to bi_reader")
    seen: list[tuple[int, int]] = []
    errors: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(postgres_dsn, autocommit=True) as conn:
                    seen.append(
                        conn.execute(
                            "select (select count(*) from swap_test.mart_orders_daily), "
                            "(select count(*) from swap_test.mart_events)"
                        ).fetchone()
                    )
            except psycopg.Error as exc:
                errors.append(str(exc))

    reader = threading.Thread(target=poll, daemon=True)
    reader.start()
    try:
        for con in (large, small, large, small, large):
            publish(con, MARTS, targets)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert set(seen) <= {(2, 4), (7, 14)}
    assert {(2, 4), (7, 14)} <= set(seen)  # the reader saw both, so it ran across the swaps
    with psycopg.connect(postgres_dsn) as conn:
        schemas = {n for (n,) in conn.execute("select nspname from pg_namespace where nspname like 'swap_test%'")}
        key = conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint "
            "where conrelid = 'swap_test.mart_orders_daily'::regclass and contype = 'p'"
        ).fetchone()
        comment = conn.execute("select col_description('swap_test.mart_orders_daily'::regclass, 3)").fetchone()
        label = conn.execute(
            "select count(*) filter (where label is null), count(*) filter (where label = '') "
            "from swap_test.mart_events"
        ).fetchone()
        granted = conn.execute(
            "select has_table_privilege('bi_reader', 'swap_test.mart_events', 'select'), "
            "has_schema_privilege('bi_reader', 'swap_test', 'usage')"
        ).fetchone()
    assert schemas == {"swap_test"}  # the loading and the previous schema are gone
    assert key == ("PRIMARY KEY (order_date)",)
    assert comment == ("Net revenue, EUR",)
    assert label == (7, 2)  # NULL stays NULL, the empty string stays empty (i = 3, 9 of 0..13)
    assert granted == (True, True)  # readers keep their grants across publications
    small.close()
    large.close()


def test_postgres_swap_does_not_deadlock_with_a_reader_locking_in_another_order(
    tmp_path: Path, postgres_dsn: str
) -> None:
    """A reader holds the second published table and then asks for the first while the swap
    runs: a swap that waited for the second table holding the first would deadlock with it."""
    small = duckdb.connect(str(_warehouse(tmp_path / "small.duckdb", days=2)))
    large = duckdb.connect(str(_warehouse(tmp_path / "large.duckdb", days=7)))
    targets = Targets(
        snapshot=tmp_path / "serving" / "journey_marts.duckdb",
        parquet=tmp_path / "serving" / "pq",
        postgres_dsn=postgres_dsn,
        postgres_schema="order_test",
    )
    publish(small, MARTS, targets)
    failures: list[BaseException] = []

    def publish_large() -> None:
        try:
            publish(large, MARTS, targets)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failures.append(exc)

    with psycopg.connect(postgres_dsn) as reader:
        # mart_orders_daily sorts after mart_events, so the swap locks it second
        before = reader.execute("select count(*) from order_test.mart_orders_daily").fetchone()
        writer = threading.Thread(target=publish_large)
        writer.start()
        for _ in range(1200):  # until the new marts are loaded; the swap follows at once
            loaded = reader.execute("select 1 from pg_namespace where nspname = 'order_test__next'").fetchone()
            if loaded or not writer.is_alive():
                break
            reader.execute("select pg_sleep(0.05)")
        reader.execute("select pg_sleep(1.5)")  # the swap has locked mart_events and wants mart_orders_daily
        events = reader.execute("select count(*) from order_test.mart_events").fetchone()
        reader.commit()
    writer.join()
    assert failures == []
    assert (before, events) == ((2,), (4,))  # the reader's transaction saw one publication
    with psycopg.connect(postgres_dsn) as conn:
        assert conn.execute("select count(*) from order_test.mart_orders_daily").fetchone() == (7,)
    small.close()
    large.close()


def test_mart_source_without_dbt_keeps_its_own_description() -> None:
    source = MartSource(dg.AssetKey(["marts", "m"]), "m", "Own words.", None, {"a": "A."}, ("a",))
    (mart,) = resolve_marts([source], {"nodes": {}})
    assert (mart.description, dict(mart.column_descriptions), mart.grain) == ("Own words.", {"a": "A."}, ("a",))


def test_publish_asset_is_downstream_of_every_mart_and_ends_the_build() -> None:
    from dagster_project.definitions import defs
    from dagster_project.publish.assets import GROUP, PUBLISHED_KEY

    graph = defs.resolve_asset_graph()
    in_marts = set()
    for key in graph.get_all_asset_keys():
        table = graph.get(key).metadata.get("dagster/table_name")
        table = getattr(table, "value", table)
        if isinstance(table, str) and table.split(".")[-2] == "marts":
            in_marts.add(key)
    node = graph.get(PUBLISHED_KEY)
    assert node.group_name == GROUP == "publish"
    assert set(node.parent_keys) == in_marts
    assert dg.AssetKey(["marts", "mart_customer_ltv"]) in in_marts and len(in_marts) >= 14
    assert PUBLISHED_KEY in defs.resolve_job_def("build_warehouse").asset_layer.selected_asset_keys
