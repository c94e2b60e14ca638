"""One publication of the marts to every sink: stage everything, then put it in place.

Staging writes the DuckDB snapshot and the Parquet files under temporary names and
loads PostgreSQL into a schema nobody reads yet. Only when all of that succeeded are
they put in place, PostgreSQL first (its swap is the step that can still fail, on a
lock timeout), then the two renames. An error while staging leaves every previous
publication as it was and removes the temporary files.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from dagster_project.publish import duckdb_snapshot, parquet, postgres
from dagster_project.publish.catalog import MARTS_SCHEMA, Mart, quote_identifier, quote_literal


@dataclass(frozen=True)
class Targets:
    """Where one publication goes."""

    snapshot: Path
    parquet: Path
    storage_version: str = "v1.4.0"
    postgres_dsn: str | None = None
    postgres_schema: str = "marts"
    postgres_lock_timeout_seconds: float = 30


@dataclass
class Publication:
    """What was published: rows per mart and one line per sink."""

    rows: dict[str, int] = field(default_factory=dict)
    sinks: dict[str, str] = field(default_factory=dict)  # sink -> where
    warnings: list[str] = field(default_factory=list)


def publish(
    con: duckdb.DuckDBPyConnection,
    marts: Sequence[Mart],
    targets: Targets,
    log: Callable[[str], None] = lambda _: None,
) -> Publication:
    """Publish ``marts`` from the warehouse ``con`` is open on to every target."""
    result = Publication()
    targets.snapshot.parent.mkdir(parents=True, exist_ok=True)
    staged_snapshot = duckdb_snapshot.staging_path(targets.snapshot)
    staged_parquet: dict[str, Path] = {}
    csv_folder = (
        Path(tempfile.mkdtemp(prefix=".journey-pg-", dir=targets.snapshot.parent)) if targets.postgres_dsn else None
    )
    try:
        duckdb_snapshot.write(con, marts, staged_snapshot, targets.storage_version)
        log(f"snapshot staged: {len(marts)} marts")
        duckdb_snapshot.attach_read_only(con, staged_snapshot)
        try:
            for mart in marts:
                source = f"{duckdb_snapshot.ALIAS}.{MARTS_SCHEMA}.{quote_identifier(mart.table)}"
                result.rows[mart.table] = int(con.execute(f"select count(*) from {source}").fetchone()[0])
            staged_parquet = parquet.write(con, marts, targets.parquet)
            log("parquet staged")
            pg_tables = _export_csv(con, marts, csv_folder) if csv_folder else []
        finally:
            duckdb_snapshot.detach(con)
        if targets.postgres_dsn:
            postgres.load(
                targets.postgres_dsn, targets.postgres_schema, pg_tables, targets.postgres_lock_timeout_seconds
            )
            log("postgres loaded")
            dropped = postgres.swap(
                targets.postgres_dsn,
                targets.postgres_schema,
                targets.postgres_lock_timeout_seconds,
                "journey marts, published by the journey pipeline; replaced whole at each publish",
            )
            where = f"{postgres.describe(targets.postgres_dsn)} schema {targets.postgres_schema}"
            result.sinks["postgres"] = where
            if not dropped:
                result.warnings.append(
                    f"{targets.postgres_schema}__previous is still read by a query; the next publish drops it"
                )
        duckdb_snapshot.commit(staged_snapshot, targets.snapshot)
        result.sinks["duckdb"] = str(targets.snapshot)
        parquet.commit(staged_parquet, targets.parquet)
        staged_parquet = {}
        result.sinks["parquet"] = str(targets.parquet)
    finally:
        duckdb_snapshot.discard(staged_snapshot)
        parquet.discard(staged_parquet)
        if csv_folder:
            shutil.rmtree(csv_folder, ignore_errors=True)
    # show the sinks in the order a reader expects them
    result.sinks = {k: result.sinks[k] for k in ("duckdb", "parquet", "postgres") if k in result.sinks}
    return result


def _export_csv(con: duckdb.DuckDBPyConnection, marts: Sequence[Mart], folder: Path) -> list[postgres.PgTable]:
    """CSV files of the attached snapshot for PostgreSQL's COPY (DuckDB writes them; NULL is an
    unquoted empty field, an empty string a quoted one, as PostgreSQL's CSV format reads them)."""
    tables = []
    for mart in marts:
        path = folder / f"{mart.table}.csv"
        source = f"{duckdb_snapshot.ALIAS}.{MARTS_SCHEMA}.{quote_identifier(mart.table)}"
        con.execute(f"copy (select * from {source}) to {quote_literal(str(path))} (format csv, header false)")
        tables.append(
            postgres.PgTable(
                name=mart.table,
                columns=duckdb_snapshot.published_columns(con, mart.table),
                csv_path=path,
                description=mart.description,
                column_descriptions=mart.column_descriptions,
                grain=mart.grain,
            )
        )
    return tables
