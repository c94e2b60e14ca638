-- CONTRACT §5: for every source x entity x dt, lines read = rows loaded + rows quarantined,
-- and those counts match what the raw tables and the quarantine actually hold.
-- Returns the offending partitions (a passing test returns nothing).
{%- set entities = [('crm', 'contacts'), ('crm', 'products'), ('crm', 'orders'), ('crm', 'tickets'),
    ('crm', 'feedback_submissions'), ('crm', 'owners'), ('calls', 'calls'), ('cart_events', 'tracks'),
    ('reviews', 'reviews')] %}
with counts as (
    select * from {{ source('audit', 'load_counts') }}
),

raw_rows as (
    {%- for source_name, entity in entities %}
    select '{{ source_name }}' as source, '{{ entity }}' as entity, _dt as dt, count(*) as raw_rows
    from {{ source(source_name, entity) }}
    group by _dt
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

quarantined as (
    select source, entity, dt, count(*) as quarantine_rows
    from {{ source('audit', 'quarantine') }}
    group by source, entity, dt
)

select
    counts.source,
    counts.entity,
    counts.dt,
    counts.lines_read,
    counts.rows_loaded,
    counts.rows_quarantined,
    coalesce(raw_rows.raw_rows, 0) as raw_rows,
    coalesce(quarantined.quarantine_rows, 0) as quarantine_rows
from counts
left join raw_rows
    on counts.source = raw_rows.source and counts.entity = raw_rows.entity and counts.dt = raw_rows.dt
left join quarantined
    on counts.source = quarantined.source and counts.entity = quarantined.entity and counts.dt = quarantined.dt
where counts.lines_read <> counts.rows_loaded + counts.rows_quarantined
    or counts.rows_loaded <> coalesce(raw_rows.raw_rows, 0)
    or counts.rows_quarantined <> coalesce(quarantined.quarantine_rows, 0)
