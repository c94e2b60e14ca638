"""The DuckDB snapshot: a file with only the ``marts`` schema, in a storage format DuckDB 1.4+ opens.

The copy is written by the connection the pipeline already holds on the warehouse:
DuckDB attaches a new file in the same folder (``ATTACH ... (STORAGE_VERSION ...)``),
creates each mart there with its published types and comments, and detaches it.
Only then does :func:`commit` rename it onto the published name. The rename is atomic
on one file system: a reader that opened the old file keeps reading it (its inode lives
until it closes it), a reader that opens the path afterwards gets the new one, and the
pipeline never waits for either.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Sequence
from pathlib import Path

import duckdb

from dagster_project.publish.catalog import (
    MARTS_SCHEMA,
    Mart,
    PublishError,
    published_expression,
    quote_identifier,
    quote_literal,
)

ALIAS = "journey_publication"


def staging_path(final: Path) -> Path:
    """A temporary name in the destination folder (the same file system, so the rename is atomic)."""
    return final.with_name(f".{final.name}.{uuid.uuid4().hex[:12]}.tmp")


def warehouse_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of a mart in the warehouse the connection is on, in table order."""
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? order by column_index",
        [MARTS_SCHEMA, table],
    ).fetchall()
    if not rows:
        raise PublishError(f"{MARTS_SCHEMA}.{table} is not in the warehouse: nothing was published")
    return rows


def write(con: duckdb.DuckDBPyConnection, marts: Sequence[Mart], path: Path, storage_version: str) -> None:
    """Write the snapshot of ``marts`` to ``path`` (a new file) and detach it, closed and complete.

    The connection's time zone is set to UTC so that timestamps are read and written as UTC.
    """
    if path.exists():
        raise PublishError(f"{path} already exists")
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach {quote_literal(str(path))} as {ALIAS} (storage_version {quote_literal(storage_version)})")
    try:
        # one transaction for the whole file, so that the ~200 table and column comments do
        # not each commit on their own (docs/decisions.md)
        con.execute("begin transaction")
        con.execute(f"create schema {ALIAS}.{MARTS_SCHEMA}")
        for mart in marts:
            columns = warehouse_columns(con, mart.table)
            select = ", ".join(published_expression(n, t, mart.declared_types.get(n)) for n, t in columns)
            target = f"{ALIAS}.{MARTS_SCHEMA}.{quote_identifier(mart.table)}"
            con.execute(f"create table {target} as select {select} from {MARTS_SCHEMA}.{quote_identifier(mart.table)}")
            if mart.description:
                con.execute(f"comment on table {target} is {quote_literal(mart.description)}")
            for name, _ in columns:
                if mart.column_descriptions.get(name):
                    con.execute(
                        f"comment on column {target}.{quote_identifier(name)} "
                        f"is {quote_literal(mart.column_descriptions[name])}"
                    )
        con.execute("commit")
        con.execute(f"checkpoint {ALIAS}")
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    finally:
        con.execute(f"detach {ALIAS}")


def published_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of a mart in the attached snapshot (used by the other sinks while it is attached)."""
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [ALIAS, MARTS_SCHEMA, table],
    ).fetchall()


def attach_read_only(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.execute(f"attach {quote_literal(str(path))} as {ALIAS} (read_only)")


def detach(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"detach {ALIAS}")


def commit(staged: Path, final: Path) -> None:
    """Put the staged snapshot in place in one rename and make the rename durable."""
    os.replace(staged, final)
    fsync_folder(final.parent)


def discard(staged: Path) -> None:
    for leftover in (staged, staged.with_name(staged.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
