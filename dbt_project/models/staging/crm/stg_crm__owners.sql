-- One row per HubSpot owner (support agent): the newest snapshot as of `as_of`.
-- Incremental latest-state (macros/incremental.sql: with_held_versions): a run parses only
-- its window of dt= days (plus the late-data lookback) and merges it with the rows held.
{{ config(
    materialized='incremental',
    unique_key='owner_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with source as (
    select * from {{ source('crm', 'owners') }}
    where _dt <= {{ as_of_date() }}
        and {{ incremental_dt_filter('_dt', 'exported_dt') }}
),

parsed as (
    select
        record_id as owner_id,
        {{ normalise_email(json_text('record', '$.email')) }} as email,
        {{ json_text('record', '$.firstName') }} as first_name,
        {{ json_text('record', '$.lastName') }} as last_name,
        coalesce({{ landing_cast('record', 'crm__owners', '$.archived') }}, false) as is_archived,
        _dt as exported_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from source
),

candidates as (
    {{ with_held_versions('parsed', 'owner_id') }}
),

latest as (
    {{ latest_per_key('candidates', 'owner_id', 'exported_dt desc, source_file_path desc, source_line_number desc') }}
)

select owner_id, email, first_name, last_name, is_archived, exported_dt, source_file_path, source_line_number
from latest
