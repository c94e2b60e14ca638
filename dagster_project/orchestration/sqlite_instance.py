"""What the ``journey`` command changes about a Dagster instance kept in SQLite files.

Dagster's default instance (a ``DAGSTER_HOME`` without a database configured) writes every
run event to SQLite: one file per run, plus an index file for asset and check events. A
one-day run records some 700 events (a planned event per asset and check when the run is
created, then one per dbt model and test as dbt reports it), and by default each of them:

- opens a new connection (``NullPool``) to the run's file, and another to the index file
  for an asset or check event;
- commits with ``synchronous=FULL``, an fsync per commit;
- closes the connection. Closing the last connection to a database in WAL mode checkpoints
  the WAL into the database file and deletes it, so every event paid for a checkpoint too.

That cost about 8 s of CPU in the journey process of a one-day run at 1 M customers, spent
while dbt keeps both cores busy. The two helpers here remove most of it, for this process
and for the duration of the command only: the instance's files and their format are
unchanged, the UI and the daemon (other processes) are not touched, and an instance on
Postgres is left alone.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def commits_without_fsync() -> None:
    """Dagster's SQLite files are in WAL mode, where SQLite recommends ``synchronous=NORMAL``:
    no fsync at commit (only at checkpoints), and still no corruption on a crash; at worst a
    power cut loses the last events of the run history, never the warehouse. Applies to every
    SQLite connection SQLAlchemy opens in this process (a ``connect`` listener); idempotent."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if getattr(commits_without_fsync, "installed", False):
        return

    @event.listens_for(Engine, "connect")
    def _normal_sync(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    commits_without_fsync.installed = True  # type: ignore[attr-defined]


# The members of Dagster's SqliteEventLogStorage (pinned in constraints.txt) that
# event_log_connections_kept_open relies on; without all of them it leaves the storage alone.
_STORAGE_MEMBERS = ("_connect", "_db_lock", "_initdb", "_initialized_dbs", "conn_string_for_shard")


@contextmanager
def event_log_connections_kept_open(instance: Any) -> Iterator[bool]:
    """While the block runs, the instance's SQLite event log reuses one open connection per
    file (a SQLAlchemy pool per shard) instead of opening and closing one per event; each
    event is still its own committed transaction, under the storage's own lock. On exit
    the pools are disposed (the last close checkpoints the WAL, as before) and the storage
    is as it was. Yields whether it applied: only to Dagster's default per-run SQLite event
    log storage, and only if that class still has the members this relies on."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
        SQLITE_BUSY_TIMEOUT_SECONDS,
        SqliteEventLogStorage,
    )
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    storage = instance.event_log_storage
    if type(storage) is not SqliteEventLogStorage or not all(hasattr(storage, m) for m in _STORAGE_MEMBERS):
        yield False
        return

    engines: dict[str, Any] = {}

    @contextmanager
    def _connect(shard: str) -> Iterator[Any]:
        # Dagster's own _connect, except that the engine (and its pooled connection) outlives
        # the event. check_same_thread: a pooled connection may serve another thread later.
        with storage._db_lock:
            engine = engines.get(shard)
            if engine is None:
                engine = create_engine(
                    storage.conn_string_for_shard(shard),
                    poolclass=QueuePool,
                    pool_size=1,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
                )
                if shard not in storage._initialized_dbs:
                    storage._initdb(engine)
                    storage._initialized_dbs.add(shard)
                engines[shard] = engine
            with engine.connect() as conn, conn.begin():
                yield conn

    storage._connect = _connect  # an attribute of this storage object, not of the class
    try:
        yield True
    finally:
        del storage._connect
        for engine in engines.values():
            engine.dispose()
