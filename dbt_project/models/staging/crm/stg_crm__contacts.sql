-- One row per HubSpot contact: its latest version as of `as_of` (CDC: latest updatedAt wins).
-- Incremental latest-state (macros/incremental.sql: with_held_versions): a run parses only
-- its window of dt= days (plus the late-data lookback) and merges it with the rows held.
{{ config(
    materialized='incremental',
    unique_key='contact_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with source as (
    select * from {{ source('crm', 'contacts') }}
    where _dt <= {{ as_of_date() }}
        and {{ incremental_dt_filter('_dt', 'exported_dt') }}
),

parsed as (
    select
        record_id as contact_id,
        {{ normalise_email(json_text('record', '$.properties.email')) }} as email,
        phone_e164,
        {{ json_text('record', '$.properties.firstname') }} as first_name,
        {{ json_text('record', '$.properties.lastname') }} as last_name,
        upper({{ json_text('record', '$.properties.country') }}) as country,
        lower({{ json_text('record', '$.properties.hs_language') }}) as language,
        {{ json_text('record', '$.properties.lifecyclestage') }} as lifecycle_stage,
        {{ json_text('record', '$.properties.customer_segment') }} as segment,
        coalesce(
            {{ landing_cast('record', 'crm__contacts', '$.createdAt') }},
            {{ landing_cast('record', 'crm__contacts', '$.properties.createdate') }}
        ) as created_at,
        {{ landing_cast('record', 'crm__contacts', '$.updatedAt') }} as updated_at,
        coalesce({{ landing_cast('record', 'crm__contacts', '$.archived') }}, false) as is_archived,
        _dt as exported_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from source
),

candidates as (
    {{ with_held_versions('parsed', 'contact_id') }}
),

latest as (
    {{ latest_per_key(
        'candidates', 'contact_id',
        'updated_at desc, exported_dt desc, source_file_path desc, source_line_number desc',
    ) }}
)

select
    contact_id,
    email,
    phone_e164,
    first_name,
    last_name,
    country,
    language,
    lifecycle_stage,
    segment,
    created_at,
    updated_at,
    is_archived,
    exported_dt,
    source_file_path,
    source_line_number
from latest
