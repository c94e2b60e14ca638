"""Load one landing partition (one entity, one ``dt=`` day) into the raw layer.

Every landing line ends in exactly one place (CONTRACT §5): its raw table, or
``audit.quarantine`` with file, line number, raw text and reason. Why not
``read_json``: its ``ignore_errors`` drops a bad line silently and says
nothing of which line it was, and the contract wants every rejected line with
its number. So Python streams the files (plain or gzip) line by line, in
batches, into a DuckDB table of raw text, and DuckDB does all the parsing and
validation in SQL (``json_valid``, ``json_type``, the rules of
``lib/landing.py``). Memory stays flat: one batch of lines at a time.

A partition is replaced atomically: delete that ``dt`` from the raw table,
the quarantine and the load counts, insert the new rows, in one transaction.
Loading the same day twice therefore never duplicates anything.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.lib.identity import normalise_phone
from dagster_project.lib.landing import Entity, LandingProblem, partition_contents
from dagster_project.lib.settings import (
    AUDIT_SCHEMA,
    LOAD_BATCH_LINES,
    QUARANTINE_RAW_LINE_MAX_CHARS,
    RAW_SCHEMA,
)

_LINE_SCHEMA = pa.schema(
    [
        ("file_path", pa.string()),
        ("line_number", pa.int64()),
        ("raw_line", pa.string()),
        ("pre_reason", pa.string()),
    ]
)


@dataclass(frozen=True)
class LoadResult:
    source: str
    entity: str
    dt: str
    files: int
    lines_read: int
    rows_loaded: int
    rows_quarantined: int

    @property
    def quarantine_share(self) -> float:
        return self.rows_quarantined / self.lines_read if self.lines_read else 0.0


_BOM = b"\xef\xbb\xbf"
_READ_CHUNK = 1 << 20


def _decode(number: int, raw: bytes) -> tuple[int, str, str | None]:
    raw = raw.rstrip(b"\r")
    if raw.startswith(_BOM):  # a UTF-8 byte-order mark at the start of a line (or of the file)
        raw = raw[len(_BOM):]
    try:
        return number, raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return number, raw.decode("utf-8", "backslashreplace"), f"bad_encoding: not UTF-8 ({exc.reason})"


def _iter_lines(path: Path) -> Iterator[tuple[int, str, str | None]]:
    """Yield (line number, text, reason or None) for each line of a file, never raising on bad bytes.

    A line that is not UTF-8 is kept (bytes escaped) with its reason; a file
    that cannot be read to its end (truncated gzip, I/O error) yields one
    final pseudo-line saying so, after every complete line read before the
    error. The file is read in chunks and split here, so the reason can say
    exactly how far it got: the uncompressed byte offset after the last
    complete line (everything after it is lost), the bytes of the line cut
    short, and how much of the file on disk the reader had consumed (all of it
    for a truncated file: what is missing was never written).
    """
    number = 0
    decoded = 0
    pending = b""
    raw_handle = None
    try:
        raw_handle = open(path, "rb")  # noqa: SIM115 - closed in finally; its position is read after errors
        handle = gzip.GzipFile(fileobj=raw_handle, mode="rb") if path.name.endswith(".gz") else raw_handle
        while chunk := handle.read1(_READ_CHUNK):  # one raw read: nothing decoded is lost on an error
            decoded += len(chunk)
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for raw in lines:
                number += 1
                yield _decode(number, raw)
        if pending:
            number += 1
            yield _decode(number, pending)
    except (OSError, EOFError, zlib.error) as exc:
        size = path.stat().st_size if path.exists() else 0
        position = raw_handle.tell() if raw_handle is not None and not raw_handle.closed else 0
        yield number + 1, "", (
            f"unreadable_file: {type(exc).__name__}: {exc}; everything after uncompressed byte offset "
            f"{decoded - len(pending)} is lost (from line {number + 1} on, {len(pending)} bytes of it decoded "
            f"and dropped); the reader had consumed {position} of the file's {size} bytes on disk"
        )
    finally:
        if raw_handle is not None:
            raw_handle.close()


def _batches(files: list[Path]) -> Iterator[pa.Table]:
    cols: tuple[list, list, list, list] = ([], [], [], [])
    for path in files:
        name = str(path)
        for number, text, reason in _iter_lines(path):
            for col, value in zip(cols, (name, number, text, reason), strict=True):
                col.append(value)
            if len(cols[0]) >= LOAD_BATCH_LINES:
                yield pa.Table.from_arrays([pa.array(c) for c in cols], schema=_LINE_SCHEMA)
                cols = ([], [], [], [])
    if cols[0]:
        yield pa.Table.from_arrays([pa.array(c) for c in cols], schema=_LINE_SCHEMA)


def ensure_schemas(con: duckdb.DuckDBPyConnection, entities: tuple[Entity, ...]) -> None:
    """Create the raw and audit tables if they do not exist (idempotent)."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(f"create schema if not exists {AUDIT_SCHEMA}")
    con.execute(
        f"""create table if not exists {AUDIT_SCHEMA}.quarantine (
            source varchar not null, entity varchar not null, dt date not null,
            file_path varchar not null, line_number bigint not null, raw_line varchar,
            reason varchar not null, reason_code varchar not null, quarantined_at timestamp not null)"""
    )
    con.execute(
        f"""create table if not exists {AUDIT_SCHEMA}.load_counts (
            source varchar not null, entity varchar not null, dt date not null,
            files integer not null, lines_read bigint not null, rows_loaded bigint not null,
            rows_quarantined bigint not null, loaded_at timestamp not null,
            primary key (source, entity, dt))"""
    )
    for e in entities:
        derived = "".join(f", {col} varchar" for col in e.derived)
        con.execute(
            f"""create table if not exists {e.raw_table} (
                record_id varchar not null, record json not null{derived},
                _dt date not null, _file_path varchar not null, _line_number bigint not null,
                _loaded_at timestamp not null)"""
        )


def _register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    # already registered on this connection: nothing to do
    with contextlib.suppress(duckdb.CatalogException, duckdb.NotImplementedException):
        con.create_function(
            "journey_e164", normalise_phone, ["VARCHAR", "VARCHAR"], "VARCHAR", null_handling="special"
        )


_JSON_CALL = re.compile(r"json_(extract_string|type)\(j, '(\$[^']*)'\)")


def _compile(sql: str, paths: dict[str, int]) -> str:
    """Point ``json_extract_string(j, '<path>')`` / ``json_type(j, '<path>')`` at pre-extracted columns.

    The rules of ``lib/landing.py`` read like SQL over the whole line, but DuckDB
    re-parses a JSON text at every call; a line has ~20 rules. So the loader
    extracts every path the rules use in one pass (``json_extract(j, [paths])``,
    one parse per line) into ``_s<i>`` (the value as text) and ``_t<i>`` (its JSON
    type) columns and rewrites the calls to use them: same semantics, ~3x faster.
    A path over every element of an array (``$.line_items[*].properties.price``)
    extracts the array once (``_j<i>``) and reads the elements from that small value.
    """

    def column(match: re.Match[str]) -> str:
        kind, path = match.group(1), match.group(2)
        if "[*]" in path:
            if kind != "extract_string":
                raise ValueError(f"json_type over an array wildcard is not supported: {path}")
            array, rest = path.split("[*]", 1)
            index = paths.setdefault(array, len(paths))
            return f"json_extract_string(_j{index}, '$[*]{rest}')"
        index = paths.setdefault(path, len(paths))
        return f"_{'s' if kind == 'extract_string' else 't'}{index}"

    return _JSON_CALL.sub(column, sql)


def _extracted_columns(paths: dict[str, int]) -> str:
    if not paths:
        return ""
    ordered = sorted(paths, key=paths.__getitem__)
    listed = ", ".join("'" + p.replace("'", "''") + "'" for p in ordered)
    columns = "".join(
        f", _v[{i + 1}] as _j{i}, json_extract_string(_v[{i + 1}], '$') as _s{i}, json_type(_v[{i + 1}]) as _t{i}"
        for i in range(len(ordered))
    )
    return f"select *{columns} from (select *, json_extract(j, [{listed}]) as _v from lines)"


# DuckDB's JSON parser accepts NaN, Infinity, -inf (any case) as numbers; JSON has no such
# tokens. A line holding one outside a string is rejected. Cheap test first (most lines
# have no 'nan' / 'inf' at all), then strings are blanked out and the bare token searched.
_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_NON_FINITE = r"(?i)(^|[^a-z0-9_.])[-+]?(nan|inf|infinity)([^a-z0-9_]|$)"
_HAS_NON_FINITE = (
    "((raw_line ilike '%nan%' or raw_line ilike '%inf%') and regexp_matches("
    f"regexp_replace(raw_line, '{_JSON_STRING}', '\"\"', 'g'), '{_NON_FINITE}'))"
)


def _reason_sql(e: Entity) -> str:
    whens = "\n".join(f"when {r.bad_when} then {r.reason}" for r in e.rules)
    return f"""case
        when pre_reason is not null then pre_reason
        when trim(raw_line) = '' then 'bad_json: empty line'
        when not json_valid(raw_line) then 'bad_json: ' || left(raw_line, 60)
        when {_HAS_NON_FINITE} then 'bad_json: NaN or Infinity is not a JSON number: ' || left(raw_line, 60)
        when json_type(j) <> 'OBJECT' then 'bad_json: a line must hold one JSON object, got ' || lower(json_type(j))
        {whens}
        end"""


def load_partition(
    con: duckdb.DuckDBPyConnection,
    e: Entity,
    landing: Path,
    dt: str,
    *,
    future_tolerance_minutes: int = 60,
    loaded_at: datetime | None = None,
) -> LoadResult:
    """Replace partition ``dt`` of ``e`` in the warehouse with what the landing zone holds now.

    Anything else in the partition's folder (a ``.json`` file, a ``.jsonl.gz.tmp`` left by
    a copy, a sub-folder) gets one quarantine row (line 0, reason ``unexpected_file:`` or
    ``unexpected_folder:``), so it is counted in the partition and never silently ignored.
    """
    day = date.fromisoformat(dt)
    loaded_at = loaded_at or datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    files, problems = partition_contents(e, landing, dt)
    # Work on a cursor of our own: a clean connection state (the caller may hold an
    # unfinished result) and temp tables and UDFs that cannot clash with the caller's.
    cur = con.cursor()
    try:
        return _load(cur, e, files, problems, dt, day, future_tolerance_minutes, loaded_at)
    finally:
        cur.close()


def _problem_rows(problems: list[LandingProblem]) -> pa.Table:
    return pa.Table.from_arrays(
        [
            pa.array([str(p.path) for p in problems], pa.string()),
            pa.array([0] * len(problems), pa.int64()),
            pa.array([""] * len(problems), pa.string()),
            pa.array([p.reason for p in problems], pa.string()),
        ],
        schema=_LINE_SCHEMA,
    )


def _load(
    con: duckdb.DuckDBPyConnection,
    e: Entity,
    files: list[Path],
    problems: list[LandingProblem],
    dt: str,
    day: date,
    future_tolerance_minutes: int,
    loaded_at: datetime,
) -> LoadResult:
    _register_udfs(con)
    ensure_schemas(con, (e,))

    con.execute(
        "create or replace temp table _journey_lines "
        "(file_path varchar, line_number bigint, raw_line varchar, pre_reason varchar)"
    )
    batches = [_problem_rows(problems)] if problems else []
    for batch in itertools.chain(batches, _batches(files)):
        con.register("_journey_batch", batch)
        con.execute("insert into _journey_lines select * from _journey_batch")
        con.unregister("_journey_batch")

    dt_end = datetime.combine(day + timedelta(days=1), datetime.min.time()) + timedelta(
        minutes=future_tolerance_minutes
    )
    paths: dict[str, int] = {}
    reason_sql = _compile(_reason_sql(e), paths)
    con.execute(
        f"""create or replace temp table _journey_checked as
        with lines as (
            select *, case when pre_reason is null and json_valid(raw_line) then raw_line::json end as j,
                   ?::timestamptz as dt_end
            from _journey_lines
        ),
        extracted as ({_extracted_columns(paths) or "select * from lines"})
        select file_path, line_number, raw_line, j, {reason_sql} as reason from extracted""",
        [dt_end.isoformat() + "+00:00"],
    )
    derived_cols = "".join(f", {col}" for col in e.derived)
    derived_sql = "".join(f", {sql}" for sql in e.derived.values())
    params = {"source": e.source, "entity": e.name, "dt": dt}
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {e.raw_table} where _dt = $dt", {"dt": dt})
        con.execute(
            f"delete from {AUDIT_SCHEMA}.quarantine where source = $source and entity = $entity and dt = $dt", params
        )
        con.execute(
            f"delete from {AUDIT_SCHEMA}.load_counts where source = $source and entity = $entity and dt = $dt",
            params,
        )
        con.execute(
            f"""insert into {e.raw_table} (record_id, record{derived_cols}, _dt, _file_path, _line_number, _loaded_at)
            select json_extract_string(j, '{e.id_path}'), j{derived_sql}, $dt, file_path, line_number, $loaded_at
            from _journey_checked where reason is null order by file_path, line_number""",
            {"dt": dt, "loaded_at": loaded_at},
        )
        con.execute(
            f"""insert into {AUDIT_SCHEMA}.quarantine
            select $source, $entity, $dt, file_path, line_number,
                   left(raw_line, {QUARANTINE_RAW_LINE_MAX_CHARS}), reason, split_part(reason, ':', 1), $loaded_at
            from _journey_checked where reason is not null order by file_path, line_number""",
            params | {"loaded_at": loaded_at},
        )
        counts = con.execute(
            "select count(*), count(*) filter (where reason is null), count(*) filter (where reason is not null) "
            "from _journey_checked"
        ).fetchone()
        assert counts is not None
        lines_read, loaded, quarantined = (int(c) for c in counts)
        con.execute(
            f"insert into {AUDIT_SCHEMA}.load_counts values ($source, $entity, $dt, $files, $read, $loaded, "
            "$quarantined, $loaded_at)",
            params
            | {"files": len(files), "read": lines_read, "loaded": loaded, "quarantined": quarantined,
               "loaded_at": loaded_at},
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop table if exists _journey_checked")
        con.execute("drop table if exists _journey_lines")
    return LoadResult(e.source, e.name, dt, len(files), lines_read, loaded, quarantined)
