"""The landing zone's entities and the row rules a landing line must pass to be loaded.

One ``Entity`` per folder of CONTRACT §1. Each rule is a SQL predicate over the
parsed line (``j``, a DuckDB JSON value) that is true when the line is *bad*,
with the reason written to ``audit.quarantine``. Rules are checked in order
and the first failing one is the reason, so put structural rules (id present)
before value rules (enums, ranges). Rules are deliberately about *shape*
(CONTRACT §5: bad JSON, missing id, wrong type, value out of range, unknown
enum, timestamp in the future); business logic lives in dbt.

Reasons start with a stable code (``missing_field:``, ``wrong_type:``, ...)
followed by the offending path and value, so a data engineer can group the
quarantine by code and still see exactly what was wrong with each line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.lib.settings import RAW_SCHEMA

# JSON types as DuckDB's json_type() names them.
_STRING = ("VARCHAR",)
_INTEGER = ("BIGINT", "UBIGINT")
_NUMBER = ("BIGINT", "UBIGINT", "DOUBLE")
_ID = ("VARCHAR", "BIGINT", "UBIGINT")


@dataclass(frozen=True)
class Rule:
    """``bad_when`` is a SQL boolean over ``j`` (the line as JSON) and ``dt_end`` (end of the partition day)."""

    bad_when: str
    reason: str  # SQL expression producing the reason text


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
    return Rule(f"not {_present(path)}", _lit(f"missing_field: {_name(path)} is missing or null"))


def of_type(path: str, types: Sequence[str], label: str) -> Rule:
    allowed = ", ".join(_lit(t) for t in types)
    return Rule(
        f"{_present(path)} and json_type(j, {_lit(path)}) not in ({allowed})",
        f"{_lit(f'wrong_type: {_name(path)} should be {label}, got ')} || lower(json_type(j, {_lit(path)}))",
    )


def numeric_string(path: str, minimum: float | None = 0) -> list[Rule]:
    """A HubSpot property: a string holding a number (HubSpot sends every property as a string)."""
    rules = [
        of_type(path, _STRING + _NUMBER, "a number in a string"),
        Rule(
            f"{_present(path)} and try_cast({_val(path)} as double) is null",
            f"{_lit(f'wrong_type: {_name(path)} should be a number, got ')} || {_quoted_value(path)}",
        ),
    ]
    if minimum is not None:
        rules.append(
            Rule(
                f"{_present(path)} and try_cast({_val(path)} as double) < {minimum}",
                f"{_lit(f'out_of_range: {_name(path)} below {minimum:g}: ')} || {_quoted_value(path)}",
            )
        )
    return rules


def iso_timestamp(path: str) -> list[Rule]:
    return [
        of_type(path, _STRING, "an ISO-8601 timestamp string"),
        Rule(
            f"{_present(path)} and try_cast({_val(path)} as timestamptz) is null",
            f"{_lit(f'wrong_type: {_name(path)} is not an ISO-8601 timestamp: ')} || {_quoted_value(path)}",
        ),
    ]


def unix_seconds(path: str) -> Rule:
    return of_type(path, _INTEGER, "Unix seconds (an integer)")


def one_of(path: str, values: Sequence[str]) -> Rule:
    allowed = ", ".join(_lit(v) for v in values)
    return Rule(
        f"{_present(path)} and {_val(path)} not in ({allowed})",
        f"{_lit(f'unknown_enum: {_name(path)} = ')} || {_quoted_value(path)}",
    )


def in_range(path: str, low: float, high: float, whole: bool = True) -> Rule:
    value = f"try_cast({_val(path)} as double)"
    whole_sql = f" or {value} <> floor({value})" if whole else ""
    return Rule(
        f"{_present(path)} and ({value} < {low} or {value} > {high}{whole_sql})",
        f"{_lit(f'out_of_range: {_name(path)} should be in [{low:g}, {high:g}], got ')} || {_quoted_value(path)}",
    )


def _ts_sql(path: str, unix: bool) -> str:
    if unix:
        return f"to_timestamp(try_cast({_val(path)} as bigint))"
    return f"try_cast({_val(path)} as timestamptz)"


def not_in_future(path: str, unix: bool = False) -> Rule:
    """A record cannot describe a moment after its export was written (the end of its dt day)."""
    return Rule(
        f"{_present(path)} and {_ts_sql(path, unix)} > dt_end",
        f"{_lit(f'future_timestamp: {_name(path)} is after the end of its dt= day: ')} || {_quoted_value(path)}",
    )


def not_before_business(path: str, unix: bool = False) -> Rule:
    return Rule(
        f"{_present(path)} and {_ts_sql(path, unix)} < business_start",
        f"{_lit(f'out_of_range: {_name(path)} is before the business existed: ')} || {_quoted_value(path)}",
    )


def timestamp_checks(path: str, unix: bool = False, required_: bool = False) -> list[Rule]:
    rules: list[Rule] = [required(path)] if required_ else []
    rules += [unix_seconds(path)] if unix else iso_timestamp(path)
    return rules + [not_in_future(path, unix), not_before_business(path, unix)]


@dataclass(frozen=True)
class Entity:
    """One landing folder ``<source>/<name>`` and how its lines become raw rows."""

    source: str
    name: str
    id_path: str
    rules: tuple[Rule, ...]
    # Derived columns added to the raw table: column -> SQL over j (may call the
    # journey_e164 UDF that the loader registers).
    derived: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.source}__{self.name}"

    @property
    def raw_table(self) -> str:
        return f"{RAW_SCHEMA}.{self.key}"

    def folder(self, landing: Path, dt: str) -> Path:
        return landing / self.source / self.name / f"dt={dt}"


def _crm_common(with_created: bool = True) -> list[Rule]:
    rules = [required("$.id"), of_type("$.id", _ID, "a string id")]
    rules += timestamp_checks("$.updatedAt", required_=True)
    if with_created:
        rules += timestamp_checks("$.createdAt")
    rules += [of_type("$.archived", ("BOOLEAN",), "a boolean"), of_type("$.properties", ("OBJECT",), "an object")]
    return rules


_CONTACTS = Entity(
    "crm",
    "contacts",
    "$.id",
    tuple(
        _crm_common()
        + [one_of("$.properties.customer_segment", ("consumer", "smb", "enterprise"))]
        + iso_timestamp("$.properties.createdate")
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
    tuple(_crm_common(with_created=False) + numeric_string("$.properties.price")),
)

_ORDER_MONEY = ("hs_subtotal_price", "hs_shipping_cost", "hs_total_price", "hs_refund_amount")
_ORDERS = Entity(
    "crm",
    "orders",
    "$.id",
    tuple(
        _crm_common()
        + [required("$.createdAt")]
        + [r for prop in _ORDER_MONEY for r in numeric_string(f"$.properties.{prop}")]
        + [
            required("$.properties.hs_total_price"),
            required("$.properties.hs_currency_code"),
            Rule(
                "not regexp_full_match(coalesce(json_extract_string(j, '$.properties.hs_currency_code'), ''), "
                "'[A-Z]{3}')",
                "'unknown_enum: properties.hs_currency_code is not an ISO-4217 code: ' || "
                + _quoted_value("$.properties.hs_currency_code"),
            ),
            one_of("$.properties.hs_source_store", ("web", "app", "amazon", "ebay", "phone")),
            of_type("$.line_items", ("ARRAY",), "an array"),
            of_type("$.associations", ("OBJECT",), "an object"),
        ]
    ),
)

_TICKETS = Entity(
    "crm",
    "tickets",
    "$.id",
    tuple(
        _crm_common()
        + [
            one_of("$.properties.hs_pipeline_stage", ("1", "2", "3", "4")),
            one_of("$.properties.hs_ticket_priority", ("LOW", "MEDIUM", "HIGH", "URGENT")),
            one_of("$.properties.source_type", ("EMAIL", "CHAT", "FORM", "PHONE", "MARKETPLACE", "SOCIAL")),
        ]
        + timestamp_checks("$.properties.createdate", required_=True)
        + timestamp_checks("$.properties.first_agent_reply_date")
        + timestamp_checks("$.properties.closed_date")
    ),
)

_SURVEY_VALUE = "try_cast(json_extract_string(j, '$.properties.hs_value') as double)"
_FEEDBACK = Entity(
    "crm",
    "feedback_submissions",
    "$.id",
    tuple(
        _crm_common()
        + [
            required("$.properties.hs_survey_type"),
            one_of("$.properties.hs_survey_type", ("NPS", "CSAT", "CES")),
            one_of("$.properties.hs_survey_channel", ("EMAIL", "WEB", "CHAT", "IN_APP", "SMS")),
            required("$.properties.hs_value"),
        ]
        + numeric_string("$.properties.hs_value", minimum=None)
        + [
            Rule(
                f"{_SURVEY_VALUE} <> floor({_SURVEY_VALUE}) or case json_extract_string(j, "
                f"'$.properties.hs_survey_type') when 'NPS' then {_SURVEY_VALUE} not between 0 and 10 "
                f"when 'CSAT' then {_SURVEY_VALUE} not between 1 and 5 "
                f"when 'CES' then {_SURVEY_VALUE} not between 1 and 7 end",
                "'out_of_range: properties.hs_value ' || "
                + _quoted_value("$.properties.hs_value")
                + " || ' is outside the ' || json_extract_string(j, '$.properties.hs_survey_type') "
                "|| ' scale (NPS 0-10, CSAT 1-5, CES 1-7)'",
            )
        ]
        + timestamp_checks("$.properties.hs_submission_timestamp", required_=True)
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
        + timestamp_checks("$.started_at", unix=True, required_=True)
        + timestamp_checks("$.answered_at", unix=True)
        + timestamp_checks("$.ended_at", unix=True)
        + [
            of_type("$.duration", _INTEGER, "seconds (an integer)"),
            one_of("$.missed_call_reason", _MISSED_REASONS),
            of_type("$.user", ("OBJECT",), "an object"),
            of_type("$.number", ("OBJECT",), "an object"),
            of_type("$.tags", ("ARRAY",), "an array"),
        ]
    ),
    derived={
        "phone_e164": "journey_e164(json_extract_string(j, '$.raw_digits'), "
        "json_extract_string(j, '$.number.country'))"
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
        + timestamp_checks("$.timestamp", required_=True)
        + timestamp_checks("$.receivedAt", required_=True)
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
        + [of_type("$.stars", _INTEGER, "an integer"), in_range("$.stars", 1, 5)]
        + timestamp_checks("$.createdAt", required_=True)
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


def partitions_present(landing: Path) -> list[str]:
    """Every ``dt=`` value found under any entity folder, sorted."""
    found: set[str] = set()
    for e in ENTITIES:
        base = landing / e.source / e.name
        if base.is_dir():
            found.update(p.name.removeprefix("dt=") for p in base.glob("dt=*") if p.is_dir())
    return sorted(found)
