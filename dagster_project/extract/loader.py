"""Load landing partitions (one entity, ``dt=`` days) into the raw layer.

Every landing line ends in exactly one place: its raw table, or
``audit.quarantine`` with file, line number, raw text and reason. Why not
``read_json``: its ``ignore_errors`` drops a bad line silently and says nothing
of which line it was. Why not DuckDB's CSV reader on one text column: it also
ends a line at a lone ``\r`` and drops lines that are not UTF-8, so its line
numbers would not be the file's.

So Python reads each file in large blocks (plain or gzip, C speed: no per-line
Python work), checks in one call that a block is UTF-8, and hands DuckDB the
block's text with the number of its first line; DuckDB splits the blocks into
lines and numbers them (``unnest(string_split(...)) with ordinality``), then
does all the parsing and validation in SQL (one ``try_cast`` to JSON per line, the
rules of ``lib/landing.py``). Only a block that is not UTF-8 is split in Python,
line by line, so that each bad line keeps its number and gets ``bad_encoding``;
a file that cannot be read to its end (truncated gzip) keeps every complete line
read before the damage and gets one ``unreadable_file`` row.

Several partitions are loaded together (up to ``LOAD_GROUP_BYTES`` of landing
text at a time): one read, one validation query and one transaction for the
group, so a year's backfill pays the per-statement and per-commit costs a few
dozen times, not 365 times per entity. Each partition is still replaced
atomically: its old rows are deleted and its new rows inserted in the same
transaction, so loading a day twice never duplicates anything.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from dagster_project.lib.identity import normalise_phone
from dagster_project.lib.landing import Entity, LandingProblem, partition_contents
from dagster_project.lib.settings import AUDIT_SCHEMA, QUARANTINE_RAW_LINE_MAX_CHARS, RAW_SCHEMA

# One row per block of lines (``is_block``: DuckDB splits ``text`` on newlines, its first line
# numbered ``line_number``) or per single line Python already decoded (a line of a block that
# is not UTF-8, a file's last line without a newline, an unreadable file, a stray name).
_PIECE_SCHEMA = pa.schema(
    [
        ("dt", pa.string()),
        ("file_path", pa.string()),
        ("line_number", pa.int64()),
        ("text", pa.large_string()),
        ("pre_reason", pa.string()),
        ("is_block", pa.bool_()),
    ]
)
# Landing text held by one group of partitions (estimated before reading: a gzip file counts
# _GZIP_RATIO times its size on disk), and by one Arrow batch handed to DuckDB.
LOAD_GROUP_BYTES = 256 << 20
# Landing text loaded through one connection (extract/assets.py reconnects between runs of
# days this size: see day_batches).
BATCH_BYTES = 1 << 30
_GZIP_RATIO = 6
_ARROW_BATCH_BYTES = 64 << 20


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
_READ_CHUNK = 4 << 20


def _decode(number: int, raw: bytes) -> tuple[int, str, str | None]:
    raw = raw.rstrip(b"\r")
    if raw.startswith(_BOM):  # a UTF-8 byte-order mark at the start of a line (or of the file)
        raw = raw[len(_BOM) :]
    try:
        return number, raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return number, raw.decode("utf-8", "backslashreplace"), f"bad_encoding: not UTF-8 ({exc.reason})"


def _pieces(path: Path) -> Iterator[tuple[int, str, str | None, bool]]:
    """Yield (first line number, text, reason or None, is_block) for a file, never raising on bad bytes.

    A block is a run of complete lines that is valid UTF-8, without its last newline:
    DuckDB splits it and strips each line's ``\r`` and leading BOM exactly as ``_decode``
    does. A run that is not UTF-8 is split here, so that each line not UTF-8 is kept
    (bytes escaped) with its reason. A file that cannot be read to its end (truncated
    gzip, I/O error) yields one final pseudo-line saying so, after every complete line
    read before the error. The reason says exactly how far it got: the uncompressed byte
    offset after the last complete line (everything after it is lost), the bytes of the
    line cut short, and how much of the file on disk the reader had consumed (all of it
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
            data = pending + chunk if pending else chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                pending = data
                continue
            complete, pending = data[:cut], data[cut + 1 :]
            try:
                text = complete.decode("utf-8")
            except UnicodeDecodeError:
                for raw in complete.split(b"\n"):
                    number += 1
                    yield (*_decode(number, raw), False)
            else:
                yield number + 1, text, None, True
                number += complete.count(b"\n") + 1
        if pending:
            number += 1
            yield (*_decode(number, pending), False)
    except (OSError, EOFError, zlib.error) as exc:
        size = path.stat().st_size if path.exists() else 0
        position = raw_handle.tell() if raw_handle is not None and not raw_handle.closed else 0
        yield (
            number + 1,
            "",
            (
                f"unreadable_file: {type(exc).__name__}: {exc}; everything after uncompressed byte offset "
                f"{decoded - len(pending)} is lost (from line {number + 1} on, {len(pending)} bytes of it decoded "
                f"and dropped); the reader had consumed {position} of the file's {size} bytes on disk"
            ),
            False,
        )
    finally:
        if raw_handle is not None:
            raw_handle.close()


def _iter_lines(path: Path) -> Iterator[tuple[int, str, str | None]]:
    """Yield (line number, text, reason or None) for each line of a file, as the loader numbers them.

    The blocks of ``_pieces`` split and cleaned as DuckDB does in the load (a reference for
    tests and tools; the load itself never iterates lines in Python).
    """
    for first, text, reason, is_block in _pieces(path):
        if not is_block:
            yield first, text, reason
            continue
        for offset, line in enumerate(text.split("\n")):
            line = line.rstrip("\r")
            yield first + offset, line[1:] if line.startswith("\ufeff") else line, None


def _piece_batches(
    parts: list[tuple[str, list[Path], list[LandingProblem]]],
) -> Iterator[pa.Table]:
    cols: tuple[list, ...] = ([], [], [], [], [], [])
    size = 0

    def add(row: tuple) -> None:
        for col, value in zip(cols, row, strict=True):
            col.append(value)

    for dt, files, problems in parts:
        for p in problems:
            add((dt, str(p.path), 0, "", p.reason, False))
        for path in files:
            name = str(path)
            for number, text, reason, is_block in _pieces(path):
                add((dt, name, number, text, reason, is_block))
                size += len(text) + 64
                if size >= _ARROW_BATCH_BYTES:
                    yield pa.Table.from_arrays([pa.array(c) for c in cols], schema=_PIECE_SCHEMA)
                    cols, size = ([], [], [], [], [], []), 0
    if cols[0]:
        yield pa.Table.from_arrays([pa.array(c) for c in cols], schema=_PIECE_SCHEMA)


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


# phonenumbers takes ~0.1 ms a number; a contact's updates repeat its number, so a cache over
# the (number, country) pairs seen saves most calls (the function is pure). It lives for one
# load_partitions call: full, it holds ~100 MB that the process would otherwise keep for good.
_cached_normalise_phone = functools.lru_cache(maxsize=1 << 18)(normalise_phone)


def _register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    # already registered on this connection: nothing to do
    with contextlib.suppress(duckdb.CatalogException, duckdb.NotImplementedException):
        con.create_function(
            "journey_e164", _cached_normalise_phone, ["VARCHAR", "VARCHAR"], "VARCHAR", null_handling="special"
        )


_JSON_CALL = re.compile(r"json_(extract_string|type)\(j, '(\$[^']*)'\)")


def _compile(sql: str, paths: dict[str, int], arrays: dict[str, int]) -> str:
    """Point ``json_extract_string(j, '<path>')`` / ``json_type(j, '<path>')`` at pre-extracted values.

    The rules of ``lib/landing.py`` read like SQL over the whole line, but DuckDB
    re-parses a JSON text at every call; a line has ~20 rules. So the loader
    extracts every path the rules use in two calls over the line
    (``json_extract_string(j, [paths])`` and ``json_type(j, [paths])``, one parse
    each) into the lists ``_s`` (each value as text) and ``_t`` (its JSON type) and
    rewrites the calls to read their elements: same semantics, several times faster.
    A path over every element of an array (``$.line_items[*].properties.price``)
    extracts the array once (``_a``) and reads the elements from that small value.
    """

    def column(match: re.Match[str]) -> str:
        kind, path = match.group(1), match.group(2)
        if "[*]" in path:
            if kind != "extract_string":
                raise ValueError(f"json_type over an array wildcard is not supported: {path}")
            array, rest = path.split("[*]", 1)
            index = arrays.setdefault(array, len(arrays))
            return f"json_extract_string(_a[{index + 1}], '$[*]{rest}')"
        index = paths.setdefault(path, len(paths))
        return f"_{'s' if kind == 'extract_string' else 't'}[{index + 1}]"

    return _JSON_CALL.sub(column, sql)


def _path_list(paths: dict[str, int]) -> str:
    ordered = sorted(paths, key=paths.__getitem__)
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in ordered) + "]"


def _extracted_columns(paths: dict[str, int], arrays: dict[str, int]) -> str:
    columns = ""
    if paths:
        columns += f", json_extract_string(j, {_path_list(paths)}) as _s, json_type(j, {_path_list(paths)}) as _t"
    if arrays:
        columns += f", json_extract(j, {_path_list(arrays)}) as _a"
    return f"select *{columns} from lines"


# DuckDB's JSON parser accepts NaN, Infinity, -inf (any case) as numbers; JSON has no such
# tokens. A line holding one outside a string is rejected. Cheap tests first: such a line
# contains 'nan' or 'inf' in some case (ILIKE, ~2.5x cheaper than a regex; few lines do);
# outside a string, the token can only follow the start of the line, ':', ',' or '[' (then
# whitespace and a sign), so a line without that pattern anywhere ('inf' and 'nan' are
# common inside words and values) has none. Only the rest pays for blanking out the
# strings and searching the bare token.
_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_NON_FINITE = r"(?i)(^|[^a-z0-9_.])[-+]?(nan|inf|infinity)([^a-z0-9_]|$)"
_MAY_BE_NON_FINITE = r"(?i)(^|[:,\[])\s*[-+]?(nan|inf)"
# (CASEs, not AND: DuckDB evaluates both sides of an AND over the whole vector.)
_HAS_NON_FINITE = (
    "case when raw_line ilike '%nan%' or raw_line ilike '%inf%' then "
    f"case when regexp_matches(raw_line, '{_MAY_BE_NON_FINITE}') then regexp_matches("
    f"regexp_replace(raw_line, '{_JSON_STRING}', '\"\"', 'g'), '{_NON_FINITE}') else false end "
    "else false end"
)


def _reason_sql(e: Entity) -> str:
    """The first rule a line breaks, or NULL. Over ``lines`` (below): ``j`` is the parsed line, NULL
    when it is not JSON (``pre_reason`` is checked first). A valid JSON text is one object exactly
    when its first character after JSON whitespace is ``{``: cheaper than parsing it again. ``trim``
    is costly on long lines: a line holding ``{`` is not blank, so only the others pay for it."""
    whens = "\n".join(f"when {r.bad_when} then {r.reason}" for r in e.rules)
    return f"""case
        when pre_reason is not null then pre_reason
        when case when contains(raw_line, '{{') then false else trim(raw_line) = '' end then 'bad_json: empty line'
        when j is null then 'bad_json: ' || left(raw_line, 60)
        when {_HAS_NON_FINITE} then 'bad_json: NaN or Infinity is not a JSON number: ' || left(raw_line, 60)
        when not regexp_matches(raw_line, '^[ \\t\\n\\r]*[{{]')
            then 'bad_json: a line must hold one JSON object, got ' || lower(json_type(j))
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
    return load_partitions(
        con, e, landing, [dt], future_tolerance_minutes=future_tolerance_minutes, loaded_at=loaded_at
    )[0]


def load_partitions(
    con: duckdb.DuckDBPyConnection,
    e: Entity,
    landing: Path,
    dts: Iterable[str],
    *,
    future_tolerance_minutes: int = 60,
    loaded_at: datetime | None = None,
) -> list[LoadResult]:
    """``load_partition`` for each day of ``dts``, several days per read, query and transaction.

    Days are grouped in order, up to ``LOAD_GROUP_BYTES`` of landing text per group (a day
    larger than that is a group of its own). One result per day, in the order given.
    """
    loaded_at = loaded_at or datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    days = list(dict.fromkeys(dts))
    for dt in days:
        date.fromisoformat(dt)  # a malformed day is an error before anything is read
    # Work on a cursor of our own: a clean connection state (the caller may hold an
    # unfinished result) and temp tables and UDFs that cannot clash with the caller's.
    cur = con.cursor()
    try:
        # Rows in any order: DuckDB then writes the raw tables from every core. Nothing depends
        # on a table's physical order (docs/decisions.md); the quarantine keeps its ORDER BY.
        cur.execute("set session preserve_insertion_order = false")
        _register_udfs(cur)
        ensure_schemas(cur, (e,))
        results: dict[str, LoadResult] = {}
        for group in _groups(e, landing, days):
            for result in _load(cur, e, group, future_tolerance_minutes, loaded_at):
                results[result.dt] = result
        return [results[dt] for dt in days]
    finally:
        cur.close()
        _cached_normalise_phone.cache_clear()


def _estimated_bytes(files: list[Path]) -> int:
    return sum(f.stat().st_size * (_GZIP_RATIO if f.name.endswith(".gz") else 1) for f in files)


def day_batches(e: Entity, landing: Path, days: Iterable[str], max_bytes: int = BATCH_BYTES) -> Iterator[list[str]]:
    """``days`` in order, cut into runs of at most ``max_bytes`` of landing text (estimated as for
    the load groups; a larger day is a run of its own). The extract opens a new connection for
    each run: closing one hands back the blocks DuckDB cached while loading (they would
    otherwise fill ``warehouse.memory_limit`` and stay resident beside the rest of the process)."""
    for group in _groups(e, landing, list(dict.fromkeys(days)), max_bytes):
        yield [dt for dt, _, _ in group]


def _groups(
    e: Entity, landing: Path, days: list[str], max_bytes: int | None = None
) -> Iterator[list[tuple[str, list[Path], list[LandingProblem]]]]:
    limit = LOAD_GROUP_BYTES if max_bytes is None else max_bytes  # read at call time: tests lower it
    group: list[tuple[str, list[Path], list[LandingProblem]]] = []
    size = 0
    for dt in days:
        files, problems = partition_contents(e, landing, dt)
        estimate = _estimated_bytes(files)
        if group and size + estimate > limit:
            yield group
            group, size = [], 0
        group.append((dt, files, problems))
        size += estimate
    if group:
        yield group


def _load(
    con: duckdb.DuckDBPyConnection,
    e: Entity,
    parts: list[tuple[str, list[Path], list[LandingProblem]]],
    future_tolerance_minutes: int,
    loaded_at: datetime,
) -> list[LoadResult]:
    tolerance = timedelta(minutes=future_tolerance_minutes)
    days = pa.table(
        {
            "dt": pa.array([dt for dt, _, _ in parts], pa.string()),
            "dt_end": pa.array(
                [
                    (
                        datetime.combine(date.fromisoformat(dt) + timedelta(days=1), datetime.min.time()) + tolerance
                    ).isoformat()
                    + "+00:00"
                    for dt, _, _ in parts
                ],
                pa.string(),
            ),
        }
    )
    con.register("_journey_days_arrow", days)
    con.execute(
        "create or replace temp table _journey_days as "
        "select dt::date as dt, dt_end::timestamptz as dt_end from _journey_days_arrow"
    )
    con.unregister("_journey_days_arrow")
    con.execute(
        "create or replace temp table _journey_pieces (dt varchar, file_path varchar, line_number bigint, "
        "text varchar, pre_reason varchar, is_block boolean)"
    )
    for batch in _piece_batches(parts):
        con.register("_journey_batch", batch)
        con.execute("insert into _journey_pieces select * from _journey_batch")
        con.unregister("_journey_batch")

    paths: dict[str, int] = {}
    arrays: dict[str, int] = {}
    reason_sql = _compile(_reason_sql(e), paths, arrays)
    # A block's lines: split on \n, numbered from the block's first line by their position in
    # the list (generate_subscripts and unnest of the same list in one select list go in step);
    # each loses its trailing \r and one leading byte-order mark, as _decode does for a single
    # line (rtrim is costly: only a line that ends in \r pays for it). Not a lateral join with
    # unnest: DuckDB then joins every line back to its block's text, which holds the block once
    # per line in memory. The lines are a table of their own: the blocks are a few dozen rows,
    # and DuckDB parallelises a query by its source's row groups, so a validation that read
    # the blocks directly ran on one core (docs/decisions.md).
    con.execute(
        """create or replace temp table _journey_lines as
        with split as (
            select dt::date as dt, file_path, line_number - 1 + generate_subscripts(ls, 1) as line_number,
                   unnest(ls) as l
            from (select *, string_split(text, chr(10)) as ls from _journey_pieces where is_block)
        ),
        trimmed as (
            select * replace (case when ends_with(l, chr(13)) then rtrim(l, chr(13)) else l end as l) from split
        ),
        all_lines as (
            select dt, file_path, line_number,
                   case when starts_with(l, chr(65279)) then substr(l, 2) else l end as raw_line,
                   null::varchar as pre_reason
            from trimmed
            union all
            select dt::date, file_path, line_number, text, pre_reason from _journey_pieces where not is_block
        )
        select * from all_lines"""
    )
    con.execute("drop table _journey_pieces")
    # try_cast parses a line once (NULL when it is not JSON), where json_valid and a cast
    # parsed it twice.
    con.execute(
        f"""create or replace temp table _journey_checked as
        with lines as (
            select a.*, case when pre_reason is null then try_cast(raw_line as json) end as j, d.dt_end
            from _journey_lines a join _journey_days d using (dt)
        ),
        extracted as ({_extracted_columns(paths, arrays)})
        select dt, file_path, line_number, raw_line, j, {reason_sql} as reason from extracted"""
    )
    con.execute("drop table _journey_lines")
    derived_cols = "".join(f", {col}" for col in e.derived)
    derived_sql = "".join(f", {sql}" for sql in e.derived.values())
    params = {"source": e.source, "entity": e.name}
    span = {"first": min(dt for dt, _, _ in parts), "last": max(dt for dt, _, _ in parts)}
    in_group = "between $first and $last and {col} in (select dt from _journey_days)"
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {e.raw_table} where _dt {in_group.format(col='_dt')}", span)
        for table in ("quarantine", "load_counts"):
            con.execute(
                f"delete from {AUDIT_SCHEMA}.{table} where source = $source and entity = $entity "
                f"and dt {in_group.format(col='dt')}",
                params | span,
            )
        # no ORDER BY: nothing depends on a table's physical order, and the sort cost more
        # than half of the insert (docs/decisions.md)
        con.execute(
            f"""insert into {e.raw_table} (record_id, record{derived_cols}, _dt, _file_path, _line_number, _loaded_at)
            select json_extract_string(j, '{e.id_path}'), j{derived_sql}, dt, file_path, line_number, $loaded_at
            from _journey_checked where reason is null""",
            {"loaded_at": loaded_at},
        )
        con.execute(
            f"""insert into {AUDIT_SCHEMA}.quarantine
            select $source, $entity, dt, file_path, line_number,
                   left(raw_line, {QUARANTINE_RAW_LINE_MAX_CHARS}), reason, split_part(reason, ':', 1), $loaded_at
            from _journey_checked where reason is not null order by dt, file_path, line_number""",
            params | {"loaded_at": loaded_at},
        )
        rows = con.execute(
            "select d.dt::varchar, count(c.dt), count(c.dt) filter (where c.reason is null), "
            "count(c.dt) filter (where c.reason is not null) "
            "from _journey_days d left join _journey_checked c using (dt) group by d.dt"
        ).fetchall()
        counts = {dt: (int(read), int(loaded), int(quarantined)) for dt, read, loaded, quarantined in rows}
        results = [LoadResult(e.source, e.name, dt, len(files), *counts[dt]) for dt, files, _ in parts]
        con.executemany(
            f"insert into {AUDIT_SCHEMA}.load_counts values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (e.source, e.name, r.dt, r.files, r.lines_read, r.rows_loaded, r.rows_quarantined, loaded_at)
                for r in results
            ],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop table if exists _journey_checked")
        con.execute("drop table if exists _journey_days")
    return results
