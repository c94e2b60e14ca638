"""Quality assets: the quarantine summary a data engineer opens first when a source fails.

It deliberately does not depend on the raw assets: a failed blocking check on a
source skips that source's downstream, and this summary is most needed exactly
then. It reads the audit trail that every extract writes.
"""

import dagster as dg

from dagster_project.lib.environment import WarehouseResource

SUMMARY_TABLE = "audit.quarantine_summary"
_PREVIEW_ROWS = 25


@dg.asset(
    key=dg.AssetKey(["audit", "quarantine_summary"]),
    group_name="quality",
    kinds={"duckdb"},
    metadata={"dagster/table_name": SUMMARY_TABLE},
)
def quarantine_summary(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Lines read and quarantined per source x entity x dt, with the quarantine broken down by
    reason code (bad_json, missing_field, wrong_type, out_of_range, unknown_enum, future_timestamp,
    bad_encoding, unreadable_file). Raw lines stay in audit.quarantine; this table holds counts only,
    so it is safe to share."""
    with warehouse.connect() as con:
        con.execute("create schema if not exists audit")
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'audit' and table_name = 'load_counts'"
        ).fetchone()[0]
        if not exists:
            raise dg.Failure("audit.load_counts does not exist yet: materialize the raw extract assets first.")
        con.execute(
            f"""create or replace table {SUMMARY_TABLE} as
            with reasons as (
                select source, entity, dt, reason_code, count(*) as lines
                from audit.quarantine group by all
            )
            select
                counts.source, counts.entity, counts.dt, counts.lines_read, counts.rows_loaded,
                counts.rows_quarantined,
                case when counts.lines_read > 0 then counts.rows_quarantined / counts.lines_read end
                    as quarantine_share,
                coalesce(reasons.reason_code, '') as reason_code,
                coalesce(reasons.lines, 0) as reason_lines
            from audit.load_counts as counts
            left join reasons
                on counts.source = reasons.source and counts.entity = reasons.entity and counts.dt = reasons.dt
            order by counts.dt desc, counts.source, counts.entity, reason_lines desc"""
        )
        preview = con.execute(
            "select source, entity, sum(lines_read) as lines_read, sum(rows_quarantined) as quarantined, "
            "string_agg(distinct nullif(reason_code, ''), ', ') as reasons "
            "from (select distinct source, entity, dt, lines_read, rows_quarantined, reason_code "
            f"from {SUMMARY_TABLE}) group by 1, 2 order by quarantined desc limit {_PREVIEW_ROWS}"
        ).fetchall()
        total = con.execute(f"select count(*) from {SUMMARY_TABLE}").fetchone()[0]
    table = dg.TableMetadataValue(
        records=[
            dg.TableRecord(
                {"source": s, "entity": e, "lines_read": int(r), "quarantined": int(q), "reasons": reasons or ""}
            )
            for s, e, r, q, reasons in preview
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("source", "string"),
                dg.TableColumn("entity", "string"),
                dg.TableColumn("lines_read", "int"),
                dg.TableColumn("quarantined", "int"),
                dg.TableColumn("reasons", "string"),
            ]
        ),
    )
    return dg.MaterializeResult(metadata={"by_source_and_entity": table, "dagster/row_count": total})
