-- One row per HubSpot ticket: its latest version as of `as_of`. Subject and content
-- (free text) stay in the raw layer.
with source as (
    select * from {{ source('crm', 'tickets') }}
    where _dt <= {{ as_of_date() }}
),

parsed as (
    select
        record_id as ticket_id,
        {{ json_text('record', '$.associations.contacts.results[0].id') }} as contact_id,
        cast({{ json_text('record', '$.properties.hs_pipeline_stage') }} as {{ dbt.type_int() }}) as pipeline_stage,
        upper({{ json_text('record', '$.properties.hs_ticket_priority') }}) as priority,
        upper({{ json_text('record', '$.properties.hs_ticket_category') }}) as category,
        upper({{ json_text('record', '$.properties.source_type') }}) as channel,
        {{ json_text('record', '$.properties.hubspot_owner_id') }} as owner_id,
        {{ iso_to_utc(json_text('record', '$.properties.createdate')) }} as created_at,
        {{ iso_to_utc(json_text('record', '$.properties.first_agent_reply_date')) }} as first_replied_at,
        {{ iso_to_utc(json_text('record', '$.properties.closed_date')) }} as closed_at,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        coalesce(cast({{ json_text('record', '$.archived') }} as boolean), false) as is_archived,
        _dt,
        _file_path,
        _line_number
    from source
),

latest as (
    {{ latest_per_key('parsed', 'ticket_id', 'updated_at desc, _dt desc, _file_path desc, _line_number desc') }}
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
    is_archived
from latest
