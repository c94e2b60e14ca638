-- One row per distinct version (ticket id x updatedAt) of a HubSpot ticket, as of `as_of`.
-- Unchanged re-sends collapse here (two versions with the same updatedAt: the later
-- landing position wins, as in stg_crm__tickets). Kept because a ticket's lifecycle (new,
-- waiting on contact, waiting on us, closed, reopened) is the sequence of its versions; the
-- latest-state stg_crm__tickets keeps only the last. Subject and content stay raw.
-- Incremental: a run parses only its window of dt= days (plus the late-data lookback),
-- adds the versions held for the tickets it touches, and replaces those tickets' versions
-- (is_latest_version recomputed over all of them).
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with source as (
    select * from {{ source('crm', 'tickets') }}
    where _dt <= {{ as_of_date() }}
        and {{ incremental_dt_filter('_dt', 'exported_dt') }}
),

parsed as (
    select
        record_id as ticket_id,
        {{ landing_cast('record', 'crm__tickets', '$.updatedAt') }} as updated_at,
        {{ landing_cast('record', 'crm__tickets', '$.properties.hs_pipeline_stage') }} as pipeline_stage,
        upper({{ json_text('record', '$.properties.hs_ticket_priority') }}) as priority,
        upper({{ json_text('record', '$.properties.source_type') }}) as channel,
        {{ json_text('record', '$.properties.hubspot_owner_id') }} as owner_id,
        {{ landing_cast('record', 'crm__tickets', '$.properties.createdate') }} as created_at,
        {{ landing_cast('record', 'crm__tickets', '$.properties.closed_date') }} as closed_at,
        coalesce({{ landing_cast('record', 'crm__tickets', '$.archived') }}, false) as is_archived,
        _dt as exported_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from source
),

candidates as (
    select * from parsed
    {% if is_incremental() %}
    union all
    select
        held.ticket_id, held.updated_at, held.pipeline_stage, held.priority, held.channel, held.owner_id,
        held.created_at, held.closed_at, held.is_archived, held.exported_dt, held.source_file_path,
        held.source_line_number
    from {{ this }} as held
    where held.ticket_id in (select parsed.ticket_id from parsed)
    {% endif %}
),

versions as (
    {{ latest_per_key(
        'candidates', 'ticket_id, updated_at',
        'exported_dt desc, source_file_path desc, source_line_number desc',
    ) }}
)

select
    ticket_id,
    updated_at,
    row_number() over (partition by ticket_id order by updated_at desc) = 1 as is_latest_version,
    pipeline_stage,
    priority,
    channel,
    owner_id,
    created_at,
    closed_at,
    is_archived,
    exported_dt,
    source_file_path,
    source_line_number
from versions
