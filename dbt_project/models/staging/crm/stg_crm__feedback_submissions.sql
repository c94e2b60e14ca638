-- One row per HubSpot feedback submission (latest version as of `as_of`). The vendor's
-- hs_response_group is kept only for comparison: categories are recomputed downstream.
-- hs_content (free text) stays in the raw layer.
-- Incremental latest-state (macros/incremental.sql: with_held_versions): a run parses only
-- its window of dt= days (plus the late-data lookback) and merges it with the rows held.
{{ config(
    materialized='incremental',
    unique_key='submission_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with source as (
    select * from {{ source('crm', 'feedback_submissions') }}
    where _dt <= {{ as_of_date() }}
        and {{ incremental_dt_filter('_dt', 'exported_dt') }}
),

parsed as (
    select
        record_id as submission_id,
        {{ json_text('record', '$.properties.hs_contact_id') }} as contact_id,
        {{ json_text('record', '$.properties.hs_ticket_id') }} as ticket_id,
        upper({{ json_text('record', '$.properties.hs_survey_type') }}) as survey_type,
        {{ json_text('record', '$.properties.hs_survey_name') }} as survey_name,
        upper({{ json_text('record', '$.properties.hs_survey_channel') }}) as survey_channel,
        {{ landing_cast('record', 'crm__feedback_submissions', '$.properties.hs_value') }}
            as score,
        upper({{ json_text('record', '$.properties.hs_response_group') }}) as vendor_response_group,
        {{ landing_cast('record', 'crm__feedback_submissions', '$.properties.hs_submission_timestamp') }}
            as submitted_at,
        {{ landing_cast('record', 'crm__feedback_submissions', '$.updatedAt') }} as updated_at,
        coalesce({{ landing_cast('record', 'crm__feedback_submissions', '$.archived') }}, false) as is_archived,
        _dt as exported_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from source
),

candidates as (
    {{ with_held_versions('parsed', 'submission_id') }}
),

latest as (
    {{ latest_per_key(
        'candidates', 'submission_id',
        'updated_at desc, exported_dt desc, source_file_path desc, source_line_number desc',
    ) }}
)

select
    submission_id,
    contact_id,
    ticket_id,
    survey_type,
    survey_name,
    survey_channel,
    score,
    vendor_response_group,
    submitted_at,
    updated_at,
    is_archived,
    exported_dt,
    source_file_path,
    source_line_number
from latest
