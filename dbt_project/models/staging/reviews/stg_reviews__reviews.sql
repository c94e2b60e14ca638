-- One row per review (a re-delivered review keeps its latest delivery), posted before the
-- end of `as_of`. Title, text and the reviewer's display name stay in the raw layer.
-- Incremental latest-state (macros/incremental.sql: with_held_versions): a run parses only
-- its window of dt= days (plus the late-data lookback) and merges it with the rows held.
{{ config(
    materialized='incremental',
    unique_key='review_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with source as (
    select * from {{ source('reviews', 'reviews') }}
    where _dt <= {{ as_of_date() }}
        and {{ incremental_dt_filter('_dt', 'exported_dt') }}
),

parsed as (
    select
        record_id as review_id,
        lower({{ json_text('record', '$.source') }}) as source,
        {{ landing_cast('record', 'reviews__reviews', '$.stars') }} as stars,
        lower({{ json_text('record', '$.language') }}) as language,
        {{ landing_cast('record', 'reviews__reviews', '$.createdAt') }} as created_at,
        {{ normalise_email(json_text('record', '$.consumer.email')) }} as consumer_email,
        {{ json_text('record', '$.referenceId') }} as reference_id,
        {{ json_text('record', '$.productSku') }} as product_sku,
        {{ landing_cast('record', 'reviews__reviews', '$.isVerified') }} as is_verified,
        _dt as exported_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from source
),

candidates as (
    {{ with_held_versions('parsed', 'review_id') }}
),

deduplicated as (
    {{ latest_per_key('candidates', 'review_id', 'exported_dt desc, source_file_path desc, source_line_number desc') }}
)

select
    review_id, source, stars, language, created_at, consumer_email, reference_id, product_sku, is_verified,
    exported_dt, source_file_path, source_line_number
from deduplicated
where created_at < {{ as_of_end() }}
