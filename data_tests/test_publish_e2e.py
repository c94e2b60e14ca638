"""Publishing the marts, end to end through `journey run`, with real DuckDB, Parquet and PostgreSQL.

One landing zone (the hand-worked scenario of test_pipeline_e2e.py), three runs:
1. a successful run publishes to every sink (PostgreSQL through JOURNEY_PG_DSN);
2. a run with the quality threshold at its default blocks the CRM source: nothing is
   published and every sink keeps the first publication;
3. a new day lands; a reader holds the snapshot open across the whole run and a
   reader polls PostgreSQL all along: the run exits 0, the held reader keeps the old
   snapshot, a new reader sees the new one, and every PostgreSQL poll saw one whole
   publication (the old or the new row counts, never a mix).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from conftest import ROOT
from landing_builder import LandingBuilder, contact, review
from test_pipeline_e2e import build_scenario, lenient_config

D3 = "2025-03-03"
ALLOWED_TYPES = {
    "BIGINT",
    "INTEGER",
    "SMALLINT",
    "DOUBLE",
    "BOOLEAN",
    "DATE",
    "VARCHAR",
    "TIMESTAMP WITH TIME ZONE",
    "DECIMAL(18,2)",
}


def _journey(*args: str, dsn: str | None = None) -> subprocess.CompletedProcess[str]:
    env = (
        {**os.environ, "JOURNEY_PG_DSN": dsn} if dsn else {k: v for k, v in os.environ.items() if k != "JOURNEY_PG_DSN"}
    )
    return subprocess.run(
        [sys.executable, "-m", "dagster_project.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )


def _norm(value: Any, money: bool = False) -> str:
    """One spelling per value across DuckDB, Parquet and PostgreSQL: timestamps in UTC (a naive
    warehouse timestamp is UTC), money to the cent, floats to 10 significant digits."""
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) if money else str(value)
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _digest(rows: list[tuple], money_columns: set[int]) -> tuple[int, str]:
    lines = sorted("|".join(_norm(v, i in money_columns) for i, v in enumerate(row)) for row in rows)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _duckdb_marts(path: Path, parquet: Path | None = None) -> dict[str, tuple[int, str]]:
    """(rows, checksum) per mart of a DuckDB file (its marts schema), or of the Parquet files."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        out = {}
        for table in tables:
            source = f"read_parquet('{parquet / (table + '.parquet')}')" if parquet else f'marts."{table}"'
            cursor = con.execute(f"select * from {source}")
            money = {i for i, d in enumerate(cursor.description) if "DECIMAL" in str(d[1]).upper()}
            out[table] = _digest(cursor.fetchall(), money)
        return out
    finally:
        con.close()


def _postgres_marts(dsn: str) -> dict[str, tuple[int, str]]:
    with psycopg.connect(dsn) as conn:
        tables = [
            t
            for (t,) in conn.execute("select tablename from pg_tables where schemaname = 'marts' order by 1").fetchall()
        ]
        out = {}
        for table in tables:
            cur = conn.execute(f'select * from marts."{table}"')
            money = {i for i, d in enumerate(cur.description) if d.type_code == 1700}  # numeric
            out[table] = _digest(cur.fetchall(), money)
        return out


def _pg_counts(dsn: str, tables: list[str]) -> tuple[int, ...]:
    """Row counts of every mart in ONE query: what a dashboard refresh would see at one instant."""
    query = "select " + ", ".join(f'(select count(*) from marts."{t}")' for t in tables)
    with psycopg.connect(dsn, autocommit=True) as conn:
        return tuple(conn.execute(query).fetchone())


def _state(snapshot: Path, parquet: Path, dsn: str) -> dict[str, Any]:
    """What a publication is on disk and in PostgreSQL, to tell whether anything replaced it."""
    with psycopg.connect(dsn) as conn:
        oid = conn.execute("select oid from pg_namespace where nspname = 'marts'").fetchone()[0]
    return {
        "snapshot": (snapshot.stat().st_ino, snapshot.stat().st_mtime_ns),
        "parquet": {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(parquet.glob("*.parquet"))},
        "postgres_schema_oid": oid,
        "postgres": _postgres_marts(dsn),
    }


class _Poller(threading.Thread):
    """Polls the row counts of every mart in PostgreSQL until stopped, recording each answer."""

    def __init__(self, dsn: str, tables: list[str]) -> None:
        super().__init__(daemon=True)
        self.dsn, self.tables = dsn, tables
        self.seen: list[tuple[int, ...]] = []
        self.errors: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.seen.append(_pg_counts(self.dsn, self.tables))
            except psycopg.Error as exc:
                self.errors.append(str(exc))


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, postgres_dsn: str) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("publish")
    landing = build_scenario(root / "landing")
    warehouse = root / "warehouse" / "journey.duckdb"
    lenient = str(lenient_config(root / "lenient.yaml", threshold=1.0))
    strict = str(ROOT / "orchestration.yaml")
    snapshot = warehouse.parent / "serving" / "journey_marts.duckdb"
    parquet = warehouse.parent / "serving" / "parquet"
    run = ("run", "--landing", str(landing), "--warehouse", str(warehouse))
    h: dict[str, Any] = {"warehouse": warehouse, "snapshot": snapshot, "parquet": parquet}

    h["first"] = _journey(*run, "--config", lenient, dsn=postgres_dsn)
    assert h["first"].returncode == 0, h["first"].stdout + h["first"].stderr
    h["sinks_first"] = {
        "warehouse": _duckdb_marts(warehouse),
        "snapshot": _duckdb_marts(snapshot),
        "parquet": _duckdb_marts(snapshot, parquet),
        "postgres": _postgres_marts(postgres_dsn),
    }
    h["state_first"] = _state(snapshot, parquet, postgres_dsn)

    h["blocked"] = _journey(*run, "--config", strict, dsn=postgres_dsn)
    h["state_blocked"] = _state(snapshot, parquet, postgres_dsn)

    LandingBuilder(landing).add("crm", "contacts", D3, contact("3", "2025-03-03 09:00", email="cy@example.com")).add(
        "reviews", "reviews", D3, review("rv-2", "2025-03-03 07:00", stars=5)
    ).write()
    tables = sorted(h["sinks_first"]["postgres"])
    held = duckdb.connect(str(snapshot), read_only=True)
    poller = _Poller(postgres_dsn, tables)
    try:
        h["held_before"] = held.execute("select count(*) from marts.dim_customers").fetchone()[0]
        poller.start()
        h["second"] = _journey(*run, "--config", lenient, dsn=postgres_dsn)
        poller.stop.set()
        poller.join()
        h["held_after"] = held.execute("select count(*) from marts.dim_customers").fetchone()[0]
    finally:
        poller.stop.set()
        held.close()
    new_reader = duckdb.connect(str(snapshot), read_only=True)
    h["new_reader"] = new_reader.execute("select count(*) from marts.dim_customers").fetchone()[0]
    new_reader.close()
    h["polls"], h["poll_errors"] = poller.seen, poller.errors
    h["pg_old"] = tuple(h["sinks_first"]["postgres"][t][0] for t in tables)
    h["pg_new"] = _pg_counts(postgres_dsn, tables)
    h["sinks_second"] = {
        "warehouse": _duckdb_marts(warehouse),
        "snapshot": _duckdb_marts(snapshot),
        "parquet": _duckdb_marts(snapshot, parquet),
        "postgres": _postgres_marts(postgres_dsn),
    }
    h["dsn"] = postgres_dsn
    return h


def _published_marts() -> set[str]:
    from dagster_project.definitions import defs
    from dagster_project.publish.assets import PUBLISHED_KEY

    return {key.path[-1] for key in defs.resolve_asset_graph().get(PUBLISHED_KEY).parent_keys}


def test_first_run_publishes_every_mart_to_every_sink_and_says_where(history: dict[str, Any]) -> None:
    out = history["first"].stdout
    assert f"Published: duckdb   {history['snapshot']}" in out
    assert f"Published: parquet  {history['parquet']}" in out
    assert "Published: postgres journey@127.0.0.1:" in out and "schema marts" in out
    sinks = history["sinks_first"]
    # every mart the publish step depends on (the dbt marts and the Python ones) reached every sink
    assert set(sinks["warehouse"]) == _published_marts()
    assert sinks["snapshot"] == sinks["warehouse"]
    assert sinks["parquet"] == sinks["warehouse"]
    assert sinks["postgres"] == sinks["warehouse"]
    assert sinks["warehouse"]["dim_customers"][0] == 1


def test_every_mart_equal_everywhere_after_the_second_publication(history: dict[str, Any]) -> None:
    sinks = history["sinks_second"]
    assert sinks["warehouse"]["dim_customers"][0] == 2  # contact 3 arrived on the new day
    for sink in ("snapshot", "parquet", "postgres"):
        assert sinks[sink] == sinks["warehouse"], sink


def test_a_blocked_build_publishes_nothing(history: dict[str, Any]) -> None:
    blocked = history["blocked"]
    assert blocked.returncode != 0, blocked.stdout
    assert "Blocked: raw/crm/" in blocked.stdout
    assert "Published:" not in blocked.stdout
    assert history["state_blocked"] == history["state_first"]  # same files, same PostgreSQL schema, same rows


def test_a_reader_holding_the_snapshot_never_blocks_the_run(history: dict[str, Any]) -> None:
    second = history["second"]
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Result: success" in second.stdout
    assert (history["held_before"], history["held_after"]) == (1, 1)  # the held reader keeps its snapshot
    assert history["new_reader"] == 2  # a new reader sees the new one


def test_postgres_readers_only_ever_see_whole_publications(history: dict[str, Any]) -> None:
    old, new = history["pg_old"], history["pg_new"]
    assert old != new
    assert history["poll_errors"] == []
    assert history["polls"], "the poller never got an answer"
    assert set(history["polls"]) <= {old, new}
    assert history["polls"][0] == old and history["polls"][-1] == new


def test_published_types_are_bi_friendly(history: dict[str, Any]) -> None:
    con = duckdb.connect(str(history["snapshot"]), read_only=True)
    wh = duckdb.connect(str(history["warehouse"]), read_only=True)
    try:
        published = dict(
            ((t, c), d)
            for t, c, d in con.execute(
                "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'marts'"
            ).fetchall()
        )
        source = dict(
            ((t, c), d)
            for t, c, d in wh.execute(
                "select table_name, column_name, data_type from duckdb_columns() where schema_name = 'marts'"
            ).fetchall()
        )
        schemas = {s for (s,) in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}
    finally:
        con.close()
        wh.close()
    assert schemas == {"marts"}
    assert published.keys() == source.keys()
    assert set(published.values()) <= ALLOWED_TYPES
    assert "HUGEINT" in source.values()  # the warehouse has them: the mapping was exercised
    for column, kind in source.items():
        if kind.startswith("DECIMAL"):
            assert published[column] == "DECIMAL(18,2)", column
        if kind == "TIMESTAMP":
            assert published[column] == "TIMESTAMP WITH TIME ZONE", column
        if kind == "HUGEINT":
            assert published[column] == "BIGINT", column
    assert published[("mart_nps_daily", "promoters")] == "BIGINT"
    assert published[("dim_customers", "lifetime_revenue")] == "DECIMAL(18,2)"


def test_comments_and_primary_keys_come_from_the_dbt_project(history: dict[str, Any]) -> None:
    manifest = json.loads((ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    models = {
        n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    con = duckdb.connect(str(history["snapshot"]), read_only=True)
    try:
        tables = dict(
            con.execute("select table_name, comment from duckdb_tables() where schema_name = 'marts'").fetchall()
        )
        columns = {
            (t, c): comment
            for t, c, comment in con.execute(
                "select table_name, column_name, comment from duckdb_columns() where schema_name = 'marts'"
            ).fetchall()
        }
    finally:
        con.close()
    assert all(tables.values()), "every published table has a comment"
    described = 0
    for name, node in models.items():
        assert tables[name] == " ".join(node["description"].split())
        for column, spec in node["columns"].items():
            if spec.get("description"):
                described += 1
                assert columns[(name, column)] == " ".join(spec["description"].split()), (name, column)
    assert described > 0
    with psycopg.connect(history["dsn"]) as conn:
        keys = dict(
            conn.execute(
                "select c.relname, array_agg(a.attname order by k.ord) from pg_constraint p "
                "join pg_class c on c.oid = p.conrelid join pg_namespace n on n.oid = c.relnamespace "
                "cross join unnest(p.conkey) with ordinality k(attnum, ord) "
                "join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum "
                "where n.nspname = 'marts' and p.contype = 'p' group by c.relname"
            ).fetchall()
        )
        pg_comment = conn.execute("select obj_description('marts.mart_nps_daily'::regclass, 'pg_class')").fetchone()[0]
    assert keys["mart_nps_daily"] == ["response_date", "segment", "survey_channel"]
    assert keys["dim_customers"] == ["customer_id"]
    assert keys["fct_customer_journey"] == ["journey_event_id"]
    assert set(models) <= set(keys), "every dbt mart has a primary key on its grain"
    assert pg_comment == tables["mart_nps_daily"]


def test_snapshot_opens_with_a_duckdb_1_4_client(history: dict[str, Any], request: pytest.FixtureRequest) -> None:
    venv = Path(request.config.cache.mkdir("duckdb-1.4-client"))
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "duckdb==1.4.*"], check=True, timeout=600)
        (venv / ".installed").touch()
    script = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "rows = {t: con.execute(f'select count(*) from marts.\"{t}\"').fetchone()[0] for (t,) in "
        "con.execute(\"select table_name from duckdb_tables() where schema_name = 'marts'\").fetchall()}\n"
        "print(json.dumps({'version': duckdb.__version__, 'rows': rows}))\n"
    )
    result = subprocess.run(
        [str(python), "-c", script, str(history["snapshot"])], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["version"].startswith("1.4.")
    assert answer["rows"] == {t: n for t, (n, _) in history["sinks_second"]["snapshot"].items()}
