-- One row per reopening of a support ticket: a version of the ticket that is not closed
-- (pipeline stage other than 4) following, in updatedAt order, a version that was closed
-- (stage 4). The latest-state staging (stg_crm__tickets) keeps one version per ticket, so
-- reopenings are read from every version in the raw layer; an unchanged re-send of a
-- version collapses. reopened_at is the updatedAt of the reopening version, up to the end
-- of `as_of`. Kept in schema intermediate: it feeds fct_sentiment_shifts, it is no mart.
{{ config(schema='intermediate') }}

with source as (
    select * from {{ source('crm', 'tickets') }}
    where _dt <= {{ as_of_date() }}
),

versions as (
    select distinct
        record_id as ticket_id,
        {{ landing_cast('record', 'crm__tickets', '$.updatedAt') }} as updated_at,
        {{ landing_cast('record', 'crm__tickets', '$.properties.hs_pipeline_stage') }} as pipeline_stage
    from source
),

ordered as (
    select
        ticket_id,
        updated_at,
        pipeline_stage,
        lag(pipeline_stage) over (partition by ticket_id order by updated_at, pipeline_stage) as previous_stage
    from versions
    where updated_at < {{ as_of_end() }}
)

select
    ticket_id,
    updated_at as reopened_at,
    {{ reporting_date('updated_at') }} as reopened_date
from ordered
where previous_stage = 4 and pipeline_stage <> 4
