"""The landing zone: its entities, the row rules a landing line must pass, and its inventory.

One ``Entity`` per folder of the landing zone (``<source>/<entity>/dt=YYYY-MM-DD/``).
Each rule is a SQL predicate over the parsed line (``j``, a DuckDB JSON value)
that is true when the line is *bad*, with the reason written to
``audit.quarantine``. Rules are checked in order and the first failing one is
the reason, so structural rules (id present) come before value rules (enums,
ranges). Rules are about *shape*: bad JSON, missing id, wrong type, value out of
range, unknown enum, timestamp in the future. Business logic lives in dbt.

Two kinds of rules:

- hand-written shape rules (``required``, ``of_type``, ``one_of``) in the entity
  definitions below;
- typed-field rules generated from ``vars.landing_fields`` of ``dbt_project.yml``:
  every value a staging model casts, with its type and range. dbt casts through the
  macro ``landing_cast`` from the same table, and the loader checks that the value
  casts to exactly that SQL type and lies in range. So a value that would fail a
  dbt cast (``"1e308"`` as money, ``"two"`` as a quantity, 3e9 seconds as an
  INTEGER) is quarantined with a reason instead of stopping the build.

Reasons start with a stable code (``missing_field:``, ``wrong_type:``, ...)
followed by the offending path and value, so a data engineer can group the
quarantine by code and still see exactly what was wrong with each line.

``inventory`` walks the landing zone once and says which ``dt=`` days exist and
what does not belong there (bad folder names, unexpected files and folders).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from dagster_project.lib.settings import DBT_PROJECT_DIR, RAW_SCHEMA

# JSON types as DuckDB's json_type() names them.
_STRING = ("VARCHAR",)
_INTEGER = ("BIGINT", "UBIGINT")
_NUMBER = ("BIGINT", "UBIGINT", "DOUBLE")
_ID = ("VARCHAR", "BIGINT", "UBIGINT")

# The SQL type each landing_fields type is cast to in staging (macros/landing.sql), as
# DuckDB names it: dbt.type_numeric() is numeric(28,6), dbt.type_int() INTEGER. A test
# builds the staging models and compares their column types with this table.
SQL_TYPES: dict[str, str] = {
    "numeric": "DECIMAL(28,6)",
    "integer": "INTEGER",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "iso_timestamp": "TIMESTAMP",
    "unix_timestamp": "TIMESTAMP",
}
_FIELD_KEYS = {"type", "min", "max", "after"}


@dataclass(frozen=True)
class Rule:
    """``bad_when`` is a SQL boolean over ``j`` (the line as JSON) and ``dt_end`` (end of the partition day)."""

    bad_when: str
    reason: str  # SQL expression producing the reason text
    doc: str = ""  # one line for docs/data-quality.md


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _name(path: str) -> str:
    return path.removeprefix("$.")


def _val(path: str) -> str:
    return f"json_extract_string(j, {_lit(path)})"


def _present(path: str) -> str:
    """True when the key exists with a non-null value (HubSpot's empty string counts as absent)."""
    return f"(coalesce(json_type(j, {_lit(path)}), 'NULL') <> 'NULL' and coalesce({_val(path)}, '') <> '')"


def _quoted_value(path: str) -> str:
    return f"coalesce(left({_val(path)}, 80), 'null')"


def required(path: str) -> Rule:
    return Rule(
        f"not {_present(path)}",
        _lit(f"missing_field: {_name(path)} is missing or null"),
        f"`{_name(path)}` is required (missing_field)",
    )


def of_type(path: str, types: Sequence[str], label: str) -> Rule:
    allowed = ", ".join(_lit(t) for t in types)
    return Rule(
        f"{_present(path)} and json_type(j, {_lit(path)}) not in ({allowed})",
        f"{_lit(f'wrong_type: {_name(path)} should be {label}, got ')} || lower(json_type(j, {_lit(path)}))",
        f"`{_name(path)}` is {label} in the JSON (wrong_type)",
    )


def iso_timestamp(path: str) -> list[Rule]:
    return [
        of_type(path, _STRING, "an ISO-8601 timestamp string"),
        Rule(
            f"{_present(path)} and try_cast({_val(path)} as timestamptz) is null",
            f"{_lit(f'wrong_type: {_name(path)} is not an ISO-8601 timestamp: ')} || {_quoted_value(path)}",
            f"`{_name(path)}` casts to TIMESTAMPTZ (wrong_type)",
        ),
    ]


def unix_seconds(path: str) -> Rule:
    return of_type(path, _INTEGER, "Unix seconds (an integer)")


def one_of(path: str, values: Sequence[str]) -> Rule:
    allowed = ", ".join(_lit(v) for v in values)
    return Rule(
        f"{_present(path)} and {_val(path)} not in ({allowed})",
        f"{_lit(f'unknown_enum: {_name(path)} = ')} || {_quoted_value(path)}",
        f"`{_name(path)}` is one of {', '.join(values)} (unknown_enum)",
    )


def not_in_future(path: str, unix: bool = False) -> Rule:
    """A record cannot describe a moment after its export was written (the end of its dt day)."""
    moment = (
        f"try_cast({_val(path)} as bigint) > epoch(dt_end)"
        if unix
        else (f"try_cast({_val(path)} as timestamptz) > dt_end")
    )
    return Rule(
        f"{_present(path)} and {moment}",
        f"{_lit(f'future_timestamp: {_name(path)} is after the end of its dt= day: ')} || {_quoted_value(path)}",
        f"`{_name(path)}` is not after the end of its dt= day plus quality.future_tolerance_minutes (future_timestamp)",
    )


def timestamp_checks(path: str, unix: bool = False, required_: bool = False) -> list[Rule]:
    """A timestamp that no staging model casts: its JSON shape and not in the future."""
    rules: list[Rule] = [required(path)] if required_ else []
    rules += [unix_seconds(path)] if unix else iso_timestamp(path)
    return rules + [not_in_future(path, unix)]


# --- typed fields: the table in dbt_project.yml -------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One entry of ``vars.landing_fields``: a landing value a staging model casts."""

    path: str
    type: str
    min: float | None = None
    max: float | None = None
    after: tuple[tuple[str, int | None], ...] = ()  # (earlier field, most seconds after it or None)

    @property
    def is_array(self) -> bool:
        return "[*]" in self.path


class LandingFieldsError(ValueError):
    """``vars.landing_fields`` of dbt_project.yml is malformed."""


def _parse_spec(entity_key: str, path: str, raw: Any) -> FieldSpec:
    where = f"dbt_project.yml vars.landing_fields.{entity_key}.{path}"
    if not isinstance(raw, dict) or raw.get("type") not in SQL_TYPES:
        raise LandingFieldsError(f"{where}: needs a type, one of {sorted(SQL_TYPES)}")
    unknown = sorted(set(raw) - _FIELD_KEYS)
    if unknown:
        raise LandingFieldsError(f"{where}: unknown key(s) {unknown}; allowed {sorted(_FIELD_KEYS)}")
    if path.count("[*]") > 1 or not path.startswith("$."):
        raise LandingFieldsError(f"{where}: a path is '$.a.b' with at most one '[*]'")
    after = raw.get("after") or {}
    if after and raw["type"] not in ("unix_timestamp", "iso_timestamp"):
        raise LandingFieldsError(f"{where}: 'after' only applies to timestamps")
    return FieldSpec(path, raw["type"], raw.get("min"), raw.get("max"), tuple(after.items()))


@cache
def landing_fields(project_file: Path = DBT_PROJECT_DIR / "dbt_project.yml") -> dict[str, tuple[FieldSpec, ...]]:
    """``vars.landing_fields`` of the dbt project: entity key -> its typed fields, in file order."""
    raw = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    table = (raw.get("vars") or {}).get("landing_fields")
    if not isinstance(table, dict):
        raise LandingFieldsError(f"{project_file}: vars.landing_fields is missing")
    return {
        key: tuple(_parse_spec(key, path, spec) for path, spec in (fields or {}).items())
        for key, fields in table.items()
    }


def _num(value: float) -> str:
    return f"{value:g}"


def _value_checks(spec: FieldSpec) -> list[tuple[str, str, str, str]]:
    """(code, predicate over the text ``x``, message before the value, doc) per check, in order."""
    number = "try_cast(x as double)"
    finite = f"({number} is null or not isfinite({number}))"
    sql_type = SQL_TYPES[spec.type]
    checks: list[tuple[str, str, str, str]] = []
    if spec.type in ("numeric", "double"):
        checks.append(("wrong_type", finite, "should be a finite number, got ", "a finite number"))
    if spec.type == "numeric":
        checks.append(
            ("out_of_range", f"try_cast(x as {sql_type}) is null", f"does not fit {sql_type}: ", f"fits {sql_type}")
        )
    if spec.type in ("integer", "unix_timestamp"):
        checks.append(
            (
                "wrong_type",
                f"({finite} or {number} <> floor({number}))",
                "should be a whole number, got ",
                "a whole number",
            )
        )
    if spec.type == "integer":
        checks.append(("out_of_range", "try_cast(x as integer) is null", "does not fit INTEGER: ", "fits INTEGER"))
    if spec.type == "unix_timestamp":
        checks.append(
            (
                "out_of_range",
                "try(to_timestamp(try_cast(x as bigint))) is null",
                "is not a representable time: ",
                "is a representable time",
            )
        )
    if spec.type == "boolean":
        checks.append(("wrong_type", "try_cast(x as boolean) is null", "should be a boolean, got ", "a boolean"))
    if spec.type == "iso_timestamp":
        checks.append(
            (
                "wrong_type",
                "try_cast(x as timestamptz) is null",
                "is not an ISO-8601 timestamp: ",
                "an ISO-8601 timestamp",
            )
        )
    if spec.min is not None:
        low = _num(spec.min)
        checks.append(("out_of_range", f"{number} < {spec.min}", f"is below {low}: ", f">= {low}"))
    if spec.max is not None:
        high = _num(spec.max)
        checks.append(("out_of_range", f"{number} > {spec.max}", f"is above {high}: ", f"<= {high}"))
    return checks


def _typed_rules(spec: FieldSpec) -> list[Rule]:
    name = _name(spec.path)
    rules = []
    for code, predicate, message, doc in _value_checks(spec):
        if spec.is_array:
            elements = f"json_extract_string(j, {_lit(spec.path)})"
            bad = f"list_filter({elements}, lambda x: nullif(x, '') is not null and ({predicate}))"
            rules.append(
                Rule(
                    f"len({bad}) > 0",
                    f"{_lit(f'{code}: {name} {message}')} || coalesce(left({bad}[1], 80), 'null')",
                    f"every `{name}` [{spec.type}]: {doc} ({code})",
                )
            )
        else:
            value = _val(spec.path)
            rules.append(
                Rule(
                    f"{_present(spec.path)} and ({_subst(predicate, value)})",
                    f"{_lit(f'{code}: {name} {message}')} || {_quoted_value(spec.path)}",
                    f"`{name}` [{spec.type}]: {doc} ({code})",
                )
            )
    if spec.type in ("iso_timestamp", "unix_timestamp") and not spec.is_array:
        rules.append(not_in_future(spec.path, unix=spec.type == "unix_timestamp"))
    return rules


def _subst(predicate: str, value: str) -> str:
    """Put the value's SQL where the predicate says ``x`` (a whole word)."""
    return re.sub(r"\bx\b", value, predicate)


def _seconds(path: str, kind: str) -> str:
    if kind == "unix_timestamp":
        return f"try_cast({_val(path)} as bigint)"
    return f"epoch(try_cast({_val(path)} as timestamptz))"


def _pair_rules(spec: FieldSpec) -> list[Rule]:
    rules = []
    for earlier, most in spec.after:
        gap = f"({_seconds(spec.path, spec.type)} - {_seconds(earlier, spec.type)})"
        limit = f"0..{most}" if most is not None else "0 or more"
        bad = f"{gap} < 0" + (f" or {gap} > {most}" if most is not None else "")
        rules.append(
            Rule(
                f"{_present(spec.path)} and {_present(earlier)} and ({bad})",
                f"{_lit(f'out_of_range: {_name(spec.path)} is ')} || {gap} || "
                f"{_lit(f' s after {_name(earlier)} (allowed {limit})')}",
                f"`{_name(spec.path)}` is {limit} seconds after `{_name(earlier)}` (out_of_range)",
            )
        )
    return rules


def typed_field_rules(entity_key: str) -> list[Rule]:
    """The rules generated from ``vars.landing_fields`` for one entity: casts and ranges, then pairs."""
    specs = landing_fields().get(entity_key, ())
    return [r for s in specs for r in _typed_rules(s)] + [r for s in specs for r in _pair_rules(s)]


# --- entities ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """One landing folder ``<source>/<name>`` and how its lines become raw rows."""

    source: str
    name: str
    id_path: str
    shape_rules: tuple[Rule, ...]
    # Derived columns added to the raw table: column -> SQL over j (may call the
    # journey_e164 UDF that the loader registers).
    derived: dict[str, str] = field(default_factory=dict)
    # Rules between typed values (checked last, once every value is known to cast): what a
    # row-level ERROR expectation of the entity's Great Expectations suite requires and the
    # landing_fields table cannot say, so that one such line is quarantined, not a whole source blocked.
    row_rules: tuple[Rule, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.source}__{self.name}"

    @property
    def raw_table(self) -> str:
        return f"{RAW_SCHEMA}.{self.key}"

    @property
    def typed_fields(self) -> tuple[FieldSpec, ...]:
        return landing_fields().get(self.key, ())

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Shape rules first, then the typed-field rules of ``vars.landing_fields``, then row rules."""
        return self.shape_rules + tuple(typed_field_rules(self.key)) + self.row_rules

    def folder(self, landing: Path, dt: str) -> Path:
        return landing / self.source / self.name / f"dt={dt}"


def _crm_common(created_cast: bool = True) -> list[Rule]:
    """id, updatedAt, createdAt (checked here when no staging model casts it), archived, properties."""
    rules = [required("$.id"), of_type("$.id", _ID, "a string id"), required("$.updatedAt")]
    rules += [of_type("$.updatedAt", _STRING, "an ISO-8601 timestamp string")]
    if not created_cast:
        rules += timestamp_checks("$.createdAt")
    rules += [of_type("$.archived", ("BOOLEAN",), "a boolean"), of_type("$.properties", ("OBJECT",), "an object")]
    return rules


def _money_shape(path: str) -> Rule:
    return of_type(path, _STRING + _NUMBER, "a number in a string")


def not_above(path: str, other: str) -> Rule:
    """The number at ``path`` is at most the one at ``other`` (compared as DOUBLE, as the GX suite does)."""
    value, limit = (f"try_cast({_val(p)} as double)" for p in (path, other))
    return Rule(
        f"{_present(path)} and {_present(other)} and {value} > {limit}",
        f"{_lit(f'out_of_range: {_name(path)} ')} || {_quoted_value(path)} || "
        f"{_lit(f' is above {_name(other)} ')} || {_quoted_value(other)}",
        f"`{_name(path)}` is at most `{_name(other)}` (out_of_range)",
    )


_CONTACTS = Entity(
    "crm",
    "contacts",
    "$.id",
    tuple(
        _crm_common()
        + [of_type("$.createdAt", _STRING, "an ISO-8601 timestamp string")]
        + [one_of("$.properties.customer_segment", ("consumer", "smb", "enterprise"))]
        + [of_type("$.properties.createdate", _STRING, "an ISO-8601 timestamp string")]
        + [of_type("$.properties.email", _STRING, "a string"), of_type("$.properties.phone", _STRING, "a string")]
    ),
    derived={
        "phone_e164": "journey_e164(json_extract_string(j, '$.properties.phone'), "
        "json_extract_string(j, '$.properties.country'))"
    },
)

_PRODUCTS = Entity(
    "crm",
    "products",
    "$.id",
    tuple(_crm_common() + [_money_shape("$.properties.price")]),
)

_ORDER_MONEY = ("hs_subtotal_price", "hs_shipping_cost", "hs_total_price", "hs_refund_amount")
_ORDERS = Entity(
    "crm",
    "orders",
    "$.id",
    tuple(
        _crm_common()
        + [required("$.createdAt"), of_type("$.createdAt", _STRING, "an ISO-8601 timestamp string")]
        + [_money_shape(f"$.properties.{prop}") for prop in _ORDER_MONEY]
        + [
            required("$.properties.hs_total_price"),
            required("$.properties.hs_currency_code"),
            Rule(
                "not regexp_full_match(coalesce(json_extract_string(j, '$.properties.hs_currency_code'), ''), "
                "'[A-Z]{3}')",
                "'unknown_enum: properties.hs_currency_code is not an ISO-4217 code: ' || "
                + _quoted_value("$.properties.hs_currency_code"),
                "`properties.hs_currency_code` is three capital letters (unknown_enum)",
            ),
            one_of("$.properties.hs_source_store", ("web", "app", "amazon", "ebay", "phone")),
            of_type("$.line_items", ("ARRAY",), "an array"),
            of_type("$.associations", ("OBJECT",), "an object"),
        ]
    ),
    row_rules=(not_above("$.properties.hs_refund_amount", "$.properties.hs_total_price"),),
)

_TICKETS = Entity(
    "crm",
    "tickets",
    "$.id",
    tuple(
        _crm_common(created_cast=False)
        + [
            one_of("$.properties.hs_pipeline_stage", ("1", "2", "3", "4")),
            one_of("$.properties.hs_ticket_priority", ("LOW", "MEDIUM", "HIGH", "URGENT")),
            one_of("$.properties.source_type", ("EMAIL", "CHAT", "FORM", "PHONE", "MARKETPLACE", "SOCIAL")),
            required("$.properties.createdate"),
        ]
        + [
            of_type(f"$.properties.{p}", _STRING, "an ISO-8601 timestamp string")
            for p in ("createdate", "first_agent_reply_date", "closed_date")
        ]
    ),
)

_SURVEY_VALUE = "try_cast(json_extract_string(j, '$.properties.hs_value') as double)"
_FEEDBACK = Entity(
    "crm",
    "feedback_submissions",
    "$.id",
    tuple(
        _crm_common(created_cast=False)
        + [
            required("$.properties.hs_survey_type"),
            one_of("$.properties.hs_survey_type", ("NPS", "CSAT", "CES")),
            one_of("$.properties.hs_survey_channel", ("EMAIL", "WEB", "CHAT", "IN_APP", "SMS")),
            required("$.properties.hs_value"),
            _money_shape("$.properties.hs_value"),
            Rule(
                f"isfinite({_SURVEY_VALUE}) and case json_extract_string(j, "
                f"'$.properties.hs_survey_type') when 'NPS' then {_SURVEY_VALUE} not between 0 and 10 "
                f"when 'CSAT' then {_SURVEY_VALUE} not between 1 and 5 "
                f"when 'CES' then {_SURVEY_VALUE} not between 1 and 7 end",
                "'out_of_range: properties.hs_value ' || "
                + _quoted_value("$.properties.hs_value")
                + " || ' is outside the ' || json_extract_string(j, '$.properties.hs_survey_type') "
                "|| ' scale (NPS 0-10, CSAT 1-5, CES 1-7)'",
                "`properties.hs_value` is on its survey's scale: NPS 0-10, CSAT 1-5, CES 1-7 (out_of_range)",
            ),
            required("$.properties.hs_submission_timestamp"),
            of_type("$.properties.hs_submission_timestamp", _STRING, "an ISO-8601 timestamp string"),
        ]
    ),
)

_OWNERS = Entity(
    "crm",
    "owners",
    "$.id",
    (
        required("$.id"),
        of_type("$.id", _ID, "a string id"),
        of_type("$.email", _STRING, "a string"),
        of_type("$.archived", ("BOOLEAN",), "a boolean"),
    ),
)

_MISSED_REASONS = (
    "out_of_opening_hours",
    "short_abandoned",
    "abandoned_in_ivr",
    "abandoned_in_classic",
    "no_available_agent",
    "agents_did_not_answer",
)
_CALLS = Entity(
    "calls",
    "calls",
    "$.id",
    tuple(
        [required("$.id"), of_type("$.id", _ID, "an integer id"), one_of("$.direction", ("inbound", "outbound"))]
        + [required("$.started_at")]
        + [unix_seconds(f"$.{p}") for p in ("started_at", "answered_at", "ended_at")]
        + [
            of_type("$.duration", _INTEGER, "seconds (an integer)"),
            one_of("$.missed_call_reason", _MISSED_REASONS),
            of_type("$.user", ("OBJECT",), "an object"),
            of_type("$.number", ("OBJECT",), "an object"),
            of_type("$.tags", ("ARRAY",), "an array"),
        ]
    ),
    derived={
        "phone_e164": "journey_e164(json_extract_string(j, '$.raw_digits'), json_extract_string(j, '$.number.country'))"
    },
)

_TRACKS = Entity(
    "cart_events",
    "tracks",
    "$.messageId",
    tuple(
        [required("$.messageId"), of_type("$.messageId", _STRING, "a string"), required("$.event")]
        + [of_type("$.event", _STRING, "a string"), of_type("$.userId", _ID, "a string")]
        + [of_type("$.anonymousId", _STRING, "a string"), of_type("$.properties", ("OBJECT",), "an object")]
        + [required("$.timestamp"), of_type("$.timestamp", _STRING, "an ISO-8601 timestamp string")]
        + [required("$.receivedAt"), of_type("$.receivedAt", _STRING, "an ISO-8601 timestamp string")]
        + [
            one_of("$.context.device.type", ("desktop", "mobile", "tablet")),
            of_type("$.properties.revenue", _NUMBER, "a number"),
            of_type("$.properties.price", _NUMBER, "a number"),
        ]
    ),
)

_REVIEWS = Entity(
    "reviews",
    "reviews",
    "$.id",
    tuple(
        [required("$.id"), of_type("$.id", _ID, "a string id"), required("$.source")]
        + [one_of("$.source", ("trustpilot", "amazon", "ebay", "google", "website")), required("$.stars")]
        + [of_type("$.stars", _INTEGER, "an integer")]
        + [required("$.createdAt"), of_type("$.createdAt", _STRING, "an ISO-8601 timestamp string")]
        + [of_type("$.consumer", ("OBJECT",), "an object")]
    ),
)

ENTITIES: tuple[Entity, ...] = (
    _CONTACTS,
    _PRODUCTS,
    _ORDERS,
    _TICKETS,
    _FEEDBACK,
    _OWNERS,
    _CALLS,
    _TRACKS,
    _REVIEWS,
)
SOURCES: tuple[str, ...] = tuple(dict.fromkeys(e.source for e in ENTITIES))


def entity(source: str, name: str) -> Entity:
    for e in ENTITIES:
        if (e.source, e.name) == (source, name):
            return e
    raise KeyError(f"unknown landing entity {source}/{name}")


# --- inventory of the landing zone --------------------------------------------------------

# A landing file: lower-case ``.jsonl`` or ``.jsonl.gz`` and not hidden (an editor's or a
# copy tool's temporary file starts with a dot or ends in another suffix).
LANDING_FILE_SUFFIXES = (".jsonl", ".jsonl.gz")
_DT_FOLDER = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class LandingProblem:
    """Something under the landing zone that is not a landing file of a valid partition.

    ``dt`` and ``entity_key`` are set when the problem lies inside a valid partition
    folder: the loader then counts it in that partition (one quarantine row). Otherwise
    it belongs to no partition and is only reported (``audit.landing_problems``).
    """

    path: Path
    reason: str
    entity_key: str | None = None
    dt: str | None = None


@dataclass(frozen=True)
class LandingInventory:
    partitions: list[str]  # valid dt= days, sorted
    problems: list[LandingProblem]  # everything else, sorted by path


def _valid_day(name: str) -> str | None:
    match = _DT_FOLDER.fullmatch(name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1)).isoformat()
    except ValueError:
        return None


def is_landing_file(path: Path) -> bool:
    return path.name.endswith(LANDING_FILE_SUFFIXES) and not path.name.startswith(".")


def partition_contents(e: Entity, landing: Path, dt: str) -> tuple[list[Path], list[LandingProblem]]:
    """The landing files of one partition (stable order) and what else its folder holds."""
    folder = e.folder(landing, dt)
    if not folder.is_dir():
        return [], []
    files: list[Path] = []
    problems: list[LandingProblem] = []
    for child in sorted(folder.iterdir()):
        if child.is_file() and is_landing_file(child):
            files.append(child)
        elif child.is_dir():
            problems.append(LandingProblem(child, "unexpected_folder: a dt= folder holds only files", e.key, dt))
        else:
            problems.append(
                LandingProblem(
                    child,
                    "unexpected_file: not a landing file (*.jsonl or *.jsonl.gz, lower case, not hidden)",
                    e.key,
                    dt,
                )
            )
    return files, problems


def inventory(landing: Path, only: Entity | None = None, contents: bool = True) -> LandingInventory:
    """Walk the landing zone once: its valid ``dt=`` days and everything that does not belong.

    Never raises on a strange name: a folder ``dt=garbage`` or ``dt=2025-02-30`` is a
    problem to report, not a crash. ``only``: descend into that entity's folder alone
    (the names above it are still checked). ``contents``: also list what each valid
    ``dt=`` folder holds besides landing files (one directory listing per partition).
    """
    days: set[str] = set()
    problems: list[LandingProblem] = []
    if not landing.is_dir():
        return LandingInventory([], [])
    known = {(e.source, e.name): e for e in ENTITIES}
    sources = {e.source for e in ENTITIES}
    for top in sorted(landing.iterdir()):
        if top.name not in sources or not top.is_dir():
            problems.append(LandingProblem(top, "unknown_source: not a source folder of the landing zone"))
            continue
        for ent in sorted(top.iterdir()):
            e = known.get((top.name, ent.name))
            if e is None or not ent.is_dir():
                problems.append(LandingProblem(ent, f"unknown_entity: not an entity folder of {top.name}"))
                continue
            if only is not None and e != only:
                continue
            for part in sorted(ent.iterdir()):
                day = _valid_day(part.name) if part.is_dir() else None
                if day is None:
                    what = "folder" if part.is_dir() else "file"
                    problems.append(
                        LandingProblem(part, f"bad_partition: {what} name is not dt=YYYY-MM-DD with a real date")
                    )
                    continue
                days.add(day)
                if contents:
                    problems.extend(partition_contents(e, landing, day)[1])
    return LandingInventory(sorted(days), sorted(problems, key=lambda p: str(p.path)))


def partitions_present(landing: Path) -> list[str]:
    """Every valid ``dt=`` day found under any entity folder, sorted (bad names: ``landing_problems``)."""
    return inventory(landing, contents=False).partitions


def window_bytes(landing: Path, first_dt: str, last_dt: str) -> int:
    """Bytes on disk of the files in every entity's ``dt=`` folders from ``first_dt`` to ``last_dt``."""
    total = 0
    for e in ENTITIES:
        folder = landing / e.source / e.name
        if not folder.is_dir():
            continue
        for part in folder.iterdir():
            day = _valid_day(part.name) if part.is_dir() else None
            if day is not None and first_dt <= day <= last_dt:
                total += sum(f.stat().st_size for f in part.iterdir() if f.is_file())
    return total


def landing_problems(landing: Path, only: Entity | None = None, contents: bool = True) -> list[LandingProblem]:
    """Everything under the landing zone that is not a landing file of a valid partition.

    ``only`` and ``contents`` as in ``inventory``: the extract asks for its own folder and
    the names above it, without the partitions' contents (the loader lists those).
    """
    return inventory(landing, only, contents).problems


# --- documentation ------------------------------------------------------------------------

DOC_PATH = DBT_PROJECT_DIR.parent / "docs" / "data-quality.md"
_DOC_BEGIN = "<!-- BEGIN generated rules: python -m dagster_project.lib.landing -->"
_DOC_END = "<!-- END generated rules -->"


def render_rules_markdown() -> str:
    """The row rules of every entity, in the order they are checked (the first failing one is the reason)."""
    out = [_DOC_BEGIN, ""]
    for e in ENTITIES:
        out.append(f"### `{e.source}/{e.name}` (id: `{_name(e.id_path)}`)")
        out.append("")
        out += [f"{n}. {r.doc}" for n, r in enumerate(e.rules, start=1)]
        out.append("")
    out.append(_DOC_END)
    return "\n".join(out)


def documented_rules(text: str) -> str:
    """The generated section of docs/data-quality.md."""
    start, end = text.index(_DOC_BEGIN), text.index(_DOC_END) + len(_DOC_END)
    return text[start:end]


if __name__ == "__main__":  # rewrite the generated section of docs/data-quality.md
    current = DOC_PATH.read_text(encoding="utf-8")
    DOC_PATH.write_text(current.replace(documented_rules(current), render_rules_markdown()), encoding="utf-8")
