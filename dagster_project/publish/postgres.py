"""PostgreSQL: the marts loaded into a new schema, then swapped with the published one in one transaction.

On only when the environment sets ``JOURNEY_PG_DSN`` (a libpq connection string or
URI; the password comes from it, ``PGPASSWORD`` or ``~/.pgpass``, never from a file
of this project).

1. Load (its own transaction; readers are not affected): a fresh schema
   ``<schema>__next`` gets every mart, streamed with ``COPY ... FROM STDIN`` from a
   CSV file DuckDB wrote from the snapshot (no table passes through Python objects),
   a primary key on the mart's grain, the table and column comments, and the grants
   that readers held on the published schema (``USAGE`` on it, ``SELECT`` on its tables).
2. Swap (one transaction): lock the published tables, rename the schema to
   ``<schema>__previous``, rename ``<schema>__next`` to the published name, commit. The
   locks make a query that started before the swap finish on the old tables and one
   that starts after it read only new ones: every query sees one whole publication.
   The swap never waits for a table while holding another (that could deadlock with a
   reader that locks the same tables in another order); it waits at most
   ``postgres_lock_timeout_seconds`` in all for running queries.
3. Drop ``<schema>__previous`` (a query still holding it only delays that drop; a drop
   that times out is retried by the next publish).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

DSN_ENV = "JOURNEY_PG_DSN"
_CHUNK_BYTES = 1 << 20
_PG_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "VARCHAR": "text",
    "TIME": "time",
    "UUID": "uuid",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
}


@dataclass(frozen=True)
class PgTable:
    """A mart as PostgreSQL receives it: columns with published types, comments, grain, CSV file."""

    name: str
    columns: Sequence[tuple[str, str]]  # (name, DuckDB type of the snapshot)
    csv_path: Path
    description: str = ""
    column_descriptions: Mapping[str, str] | None = None
    grain: Sequence[str] = ()


def postgres_type(duckdb_type: str) -> str:
    """The PostgreSQL type of a published DuckDB column type."""
    upper = duckdb_type.upper()
    decimal = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", upper)
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    if upper not in _PG_TYPES:
        raise ValueError(f"no PostgreSQL type for the published type {duckdb_type}")
    return _PG_TYPES[upper]


def describe(dsn: str) -> str:
    """Where a DSN points, without its password: ``user@host:port/dbname``."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    host = info.get("host") or info.get("hostaddr") or "localhost"
    user = f"{info['user']}@" if info.get("user") else ""
    return f"{user}{host}:{info.get('port') or 5432}/{info.get('dbname') or ''}"


def load(dsn: str, schema: str, tables: Sequence[PgTable], lock_timeout_seconds: float) -> None:
    """Load ``tables`` into ``<schema>__next`` (replacing a leftover one), committed but not yet visible."""
    next_schema = sql.Identifier(f"{schema}__next")
    with psycopg.connect(dsn) as conn:
        _set_lock_timeout(conn, lock_timeout_seconds)
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(next_schema))
        conn.execute(sql.SQL("create schema {}").format(next_schema))
        for table in tables:
            _load_table(conn, next_schema, table)
        readers = conn.execute(
            "select distinct case when a.grantee = 0 then 'public' else a.grantee::regrole::text end "
            "from pg_namespace n, aclexplode(n.nspacl) a "
            "where n.nspname = %s and a.privilege_type = 'USAGE' and a.grantee <> n.nspowner",
            [schema],
        ).fetchall()
        for (role,) in readers:
            grantee = sql.SQL("public") if role == "public" else sql.Identifier(role)
            conn.execute(sql.SQL("grant usage on schema {} to {}").format(next_schema, grantee))
            conn.execute(sql.SQL("grant select on all tables in schema {} to {}").format(next_schema, grantee))


def _load_table(conn: psycopg.Connection, schema: sql.Identifier, table: PgTable) -> None:
    target = sql.SQL("{}.{}").format(schema, sql.Identifier(table.name))
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(postgres_type(kind))) for name, kind in table.columns
    )
    conn.execute(sql.SQL("create table {} ({})").format(target, columns))
    copy_in = sql.SQL("copy {} from stdin (format csv)").format(target)
    with conn.cursor() as cur, cur.copy(copy_in) as copy, open(table.csv_path, "rb") as source:
        while chunk := source.read(_CHUNK_BYTES):
            copy.write(chunk)
    if table.grain:
        key = sql.SQL(", ").join(sql.Identifier(c) for c in table.grain)
        conn.execute(sql.SQL("alter table {} add primary key ({})").format(target, key))
    if table.description:
        conn.execute(sql.SQL("comment on table {} is {}").format(target, sql.Literal(table.description)))
    for name, text in (table.column_descriptions or {}).items():
        if any(name == c for c, _ in table.columns):
            conn.execute(
                sql.SQL("comment on column {}.{} is {}").format(target, sql.Identifier(name), sql.Literal(text))
            )
    conn.execute(sql.SQL("analyze {}").format(target))


def swap(dsn: str, schema: str, lock_timeout_seconds: float, comment: str) -> bool:
    """Make ``<schema>__next`` the published schema in one transaction, then drop the old one.

    Returns False when the old schema could not be dropped yet (a query still reads it).
    """
    published = sql.Identifier(schema)
    previous = sql.Identifier(f"{schema}__previous")
    deadline = time.monotonic() + lock_timeout_seconds
    with psycopg.connect(dsn) as conn:
        _set_lock_timeout(conn, lock_timeout_seconds)
        conn.execute(sql.SQL("drop schema if exists {} cascade").format(previous))
        conn.commit()
        old_tables = conn.execute(
            "select tablename from pg_tables where schemaname = %s order by 1", [schema]
        ).fetchall()
        if old_tables:
            _lock_all(conn, [sql.SQL("{}.{}").format(published, sql.Identifier(t)) for (t,) in old_tables], deadline)
            _set_lock_timeout(conn, lock_timeout_seconds)
        exists = conn.execute("select 1 from pg_namespace where nspname = %s", [schema]).fetchone()
        if exists:
            conn.execute(sql.SQL("alter schema {} rename to {}").format(published, previous))
        conn.execute(sql.SQL("alter schema {} rename to {}").format(sql.Identifier(f"{schema}__next"), published))
        conn.execute(sql.SQL("comment on schema {} is {}").format(published, sql.Literal(comment)))
        conn.commit()
        try:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(previous))
            conn.commit()
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            conn.rollback()
            return False
    return True


def _lock_all(conn: psycopg.Connection, tables: Sequence[sql.Composable], deadline: float) -> None:
    """Lock every table in ``tables`` exclusively, without ever waiting while holding one of them.

    A reader's query locks its tables one at a time, in its own order; a swap that waited
    for its second table while holding its first could deadlock with such a reader (and
    PostgreSQL would then abort one of the two). So the swap waits only for the first
    table, holding nothing else, takes the rest with ``NOWAIT``, and on a refusal lets go
    of everything and tries again, until ``deadline`` (then ``LockNotAvailable`` is raised).
    """
    first, rest = tables[0], tables[1:]
    pause = 0.02
    while True:
        remaining = deadline - time.monotonic()
        try:
            _set_lock_timeout(conn, max(remaining, 0.001))
            conn.execute(sql.SQL("lock table {} in access exclusive mode").format(first))
            if rest:
                names = sql.SQL(", ").join(rest)
                conn.execute(sql.SQL("lock table {} in access exclusive mode nowait").format(names))
            return
        except psycopg.errors.LockNotAvailable:
            conn.rollback()
            if time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def _set_lock_timeout(conn: psycopg.Connection, seconds: float) -> None:
    conn.execute(sql.SQL("set lock_timeout = {}").format(sql.Literal(f"{int(seconds * 1000)}ms")))
