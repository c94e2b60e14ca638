"""What is published: the tables of schema ``marts``, their descriptions, grains and published types.

Nothing here names a mart. The marts are the assets whose table lives in schema
``marts`` (``dagster/table_name``), whichever domain builds them (dbt or Python).
For a dbt model, the table and column descriptions, the declared ``data_type`` of a
column and the grain come from the dbt manifest: the grain is the columns of the
model's ``unique`` or ``unique_combination`` test. For an asset built in Python they
come from its Dagster definition: the asset description and its
``dagster/column_schema`` (column descriptions; a column marked unique is the grain).

Types follow what BI drivers understand. The warehouse keeps sums of integers as
HUGEINT (DuckDB's result type of ``sum``), which many drivers reject: BIGINT. Money is
the only DECIMAL of the project (models cast amounts with ``dbt.type_numeric()``;
rates and averages are DOUBLE), so a DECIMAL is published as DECIMAL(18,2). Naive
timestamps are UTC by the project's rule and are published as TIMESTAMP WITH TIME ZONE.
A column that declares ``data_type`` in its yml is published as that type instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

MARTS_SCHEMA = "marts"
MONEY_TYPE = "DECIMAL(18,2)"
_GRAIN_TESTS = ("unique", "unique_combination")
_KEPT_TYPES = {
    "BIGINT",
    "INTEGER",
    "SMALLINT",
    "DOUBLE",
    "BOOLEAN",
    "DATE",
    "VARCHAR",
    "TIME",
    "UUID",
    "TIMESTAMP WITH TIME ZONE",
}
_WIDENED_TYPES = {
    "HUGEINT": "BIGINT",
    "UHUGEINT": "BIGINT",
    "UBIGINT": "BIGINT",
    "UINTEGER": "BIGINT",
    "USMALLINT": "INTEGER",
    "UTINYINT": "SMALLINT",
    "TINYINT": "SMALLINT",
    "FLOAT": "DOUBLE",
}
_NAIVE_TIMESTAMPS = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"}


class PublishError(RuntimeError):
    """The marts cannot be published as they are (a missing table, a type no BI driver reads)."""


@dataclass(frozen=True)
class MartSource:
    """A mart as the asset graph knows it, captured when the definitions load."""

    key: dg.AssetKey
    table: str
    description: str = ""
    dbt_unique_id: str | None = None
    column_descriptions: Mapping[str, str] = field(default_factory=dict)
    unique_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mart:
    """A mart with everything the sinks need: comments, declared types and grain."""

    table: str
    description: str
    column_descriptions: Mapping[str, str]
    declared_types: Mapping[str, str]
    grain: tuple[str, ...]


def _schema_of(table_name: str) -> str | None:
    parts = [p.strip('"') for p in table_name.split(".")]
    return parts[-2] if len(parts) >= 2 else None


def mart_sources(specs: Iterable[dg.AssetSpec]) -> list[MartSource]:
    """The assets whose table lives in schema ``marts``, sorted by table name."""
    found: dict[str, MartSource] = {}
    for spec in specs:
        table_name = spec.metadata.get("dagster/table_name")
        table_name = getattr(table_name, "value", table_name)
        if not isinstance(table_name, str) or _schema_of(table_name) != MARTS_SCHEMA:
            continue
        schema = spec.metadata.get("dagster/column_schema")
        schema = getattr(schema, "schema", schema)
        columns = list(schema.columns) if isinstance(schema, dg.TableSchema) else []
        table = table_name.split(".")[-1].strip('"')
        found[table] = MartSource(
            key=spec.key,
            table=table,
            description=spec.description or "",
            dbt_unique_id=spec.metadata.get("dagster_dbt/unique_id"),
            column_descriptions={c.name: c.description for c in columns if c.description},
            unique_columns=tuple(c.name for c in columns if c.constraints.unique),
        )
    return [found[t] for t in sorted(found)]


def _grain_from_tests(manifest: Mapping[str, Any], unique_id: str) -> tuple[str, ...]:
    """The smallest set of columns a ``unique`` / ``unique_combination`` test of the model holds unique."""
    candidates = []
    for node in manifest.get("nodes", {}).values():
        meta = node.get("test_metadata") or {}
        if node.get("resource_type") != "test" or meta.get("name") not in _GRAIN_TESTS:
            continue
        if node.get("attached_node") != unique_id and node.get("depends_on", {}).get("nodes") != [unique_id]:
            continue
        kwargs = meta.get("kwargs") or {}
        kwargs = {**kwargs, **(kwargs.get("arguments") or {})}
        columns = [kwargs["column_name"]] if kwargs.get("column_name") else list(kwargs.get("columns") or [])
        if columns:
            candidates.append(tuple(columns))
    return min(candidates, key=lambda c: (len(c), c)) if candidates else ()


def resolve_marts(sources: Sequence[MartSource], manifest: Mapping[str, Any]) -> list[Mart]:
    """Complete each mart with its descriptions, declared types and grain (see the module docstring)."""
    marts = []
    for source in sources:
        node = manifest.get("nodes", {}).get(source.dbt_unique_id or "", None)
        if node is None:
            marts.append(
                Mart(source.table, source.description, dict(source.column_descriptions), {}, source.unique_columns[:1])
            )
            continue
        columns = node.get("columns") or {}
        marts.append(
            Mart(
                table=source.table,
                description=" ".join((node.get("description") or source.description).split()),
                column_descriptions={
                    n: " ".join(c["description"].split()) for n, c in columns.items() if c.get("description")
                },
                declared_types={n: c["data_type"] for n, c in columns.items() if c.get("data_type")},
                grain=_grain_from_tests(manifest, source.dbt_unique_id or ""),
            )
        )
    return marts


def published_type(warehouse_type: str, declared: str | None = None) -> str:
    """The type a column is published as, from its warehouse type (or its declared ``data_type``)."""
    if declared:
        return declared.upper()
    upper = warehouse_type.upper()
    if upper in _KEPT_TYPES:
        return upper
    if upper in _WIDENED_TYPES:
        return _WIDENED_TYPES[upper]
    if upper.startswith("DECIMAL"):
        return MONEY_TYPE
    if upper in _NAIVE_TIMESTAMPS:
        return "TIMESTAMP WITH TIME ZONE"
    raise PublishError(f"type {warehouse_type} has no BI-friendly equivalent (declare data_type in the mart's yml)")


def published_expression(column: str, warehouse_type: str, declared: str | None = None) -> str:
    """SQL that turns a warehouse column into its published type; naive timestamps are read as UTC."""
    target = published_type(warehouse_type, declared)
    quoted = quote_identifier(column)
    if target == warehouse_type.upper():
        return quoted
    if not declared and warehouse_type.upper() in _NAIVE_TIMESTAMPS:
        return f"timezone('UTC', {quoted}::TIMESTAMP) as {quoted}"
    return f"cast({quoted} as {target}) as {quoted}"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
