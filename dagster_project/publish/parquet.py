"""Parquet: one ``<mart>.parquet`` per mart, each written under a temporary name, then renamed.

The files are exported from the snapshot being published, so they hold exactly its
rows and types. Each file is replaced atomically; a mart that is no longer published
has its file removed, so the folder always lists the current marts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import duckdb

from dagster_project.publish import duckdb_snapshot
from dagster_project.publish.catalog import MARTS_SCHEMA, Mart, quote_identifier, quote_literal

# zstd's fastest level: on the 13.3 M-row journey of the 1 M-customer benchmark it writes in
# 7.9 s instead of 10.1 s (DuckDB's default, level 3) for a file 1 % larger (docs/decisions.md)
ZSTD_LEVEL = 1


def write(con: duckdb.DuckDBPyConnection, marts: Sequence[Mart], folder: Path) -> dict[str, Path]:
    """Export every mart of the attached snapshot to a staged file in ``folder``; mart -> staged path."""
    folder.mkdir(parents=True, exist_ok=True)
    staged: dict[str, Path] = {}
    try:
        for mart in marts:
            path = duckdb_snapshot.staging_path(folder / f"{mart.table}.parquet")
            staged[mart.table] = path
            source = f"{duckdb_snapshot.ALIAS}.{MARTS_SCHEMA}.{quote_identifier(mart.table)}"
            con.execute(
                f"copy (select * from {source}) to {quote_literal(str(path))} "
                f"(format parquet, compression zstd, compression_level {ZSTD_LEVEL})"
            )
    except BaseException:
        discard(staged)
        raise
    return staged


def commit(staged: dict[str, Path], folder: Path) -> None:
    """Rename each staged file onto its mart's name and remove the files of marts no longer published."""
    for table, path in staged.items():
        path.replace(folder / f"{table}.parquet")
    for old in folder.glob("*.parquet"):
        if old.stem not in staged:
            old.unlink()
    duckdb_snapshot.fsync_folder(folder)


def discard(staged: dict[str, Path]) -> None:
    for path in staged.values():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
