-- One row per HubSpot ticket: its latest version as of `as_of`. Subject and content
-- (free text) stay in the raw layer.
-- Incremental latest-state (macros/incremental.sql: with_held_versions): a run parses only
-- its window of dt= days (plus the late-data lookback) and merges it with the rows held.
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
        {{ json_text('record', '$.associations.contacts.results[0].id') }} as contact_id,
        {{ landing_cast('record', 'crm__tickets', '$.properties.hs_pipeline_stage') }} as pipeline_stage,
        upper({{ json_text('record', '$.properties.hs_ticket_priority') }}) as priority,
        upper({{ json_text('record', '$.properties.hs_ticket_category') }}) as category,
        upper({{ json_text('record', '$.properties.source_type') }}) as channel,
        {{ json_text('record', '$.properties.hubspot_owner_id') }} as owner_id,
        {{ landing_cast('record', 'crm__tickets', '$.properties.createdate') }} as created_at,
        {{ landing_cast('record', 'crm__tickets', '$.properties.first_agent_reply_date') }} as first_replied_at,
        {{ landing_cast('record', 'crm__tickets', '$.properties.closed_date') }} as closed_at,
        {{ landing_cast('record', 'crm__tickets', '$.updatedAt') }} as updated_at,
        coalesce({{ landing_cast('record', 'crm__tickets', '$.archived') }}, false) as is_archived,
        _dt as exported_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from source
),

candidates as (
    {{ with_held_versions('parsed', 'ticket_id') }}
),

latest as (
    {{ latest_per_key(
        'candidates', 'ticket_id',
        'updated_at desc, exported_dt desc, source_file_path desc, source_line_number desc',
    ) }}
)

select
    ticket_id,
    contact_id,
    pipeline_stage,
    priority,
    category,
    channel,
    owner_id,
    created_at,
    first_replied_at,
    closed_at,
    updated_at,
    is_archived,
    exported_dt,
    source_file_path,
    source_line_number
from latest
