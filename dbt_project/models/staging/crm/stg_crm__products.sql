-- One row per HubSpot product: its latest version as of `as_of`.
-- Incremental latest-state (macros/incremental.sql: with_held_versions): a run parses only
-- its window of dt= days (plus the late-data lookback) and merges it with the rows held.
{{ config(
    materialized='incremental',
    unique_key='product_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with source as (
    select * from {{ source('crm', 'products') }}
    where _dt <= {{ as_of_date() }}
        and {{ incremental_dt_filter('_dt', 'exported_dt') }}
),

parsed as (
    select
        record_id as product_id,
        {{ json_text('record', '$.properties.name') }} as product_name,
        {{ json_text('record', '$.properties.hs_sku') }} as sku,
        lower({{ json_text('record', '$.properties.category') }}) as category,
        {{ landing_cast('record', 'crm__products', '$.properties.price') }} as list_price,
        {{ landing_cast('record', 'crm__products', '$.updatedAt') }} as updated_at,
        coalesce({{ landing_cast('record', 'crm__products', '$.archived') }}, false) as is_archived,
        _dt as exported_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from source
),

candidates as (
    {{ with_held_versions('parsed', 'product_id') }}
),

latest as (
    {{ latest_per_key(
        'candidates', 'product_id',
        'updated_at desc, exported_dt desc, source_file_path desc, source_line_number desc',
    ) }}
)

select
    product_id, product_name, sku, category, list_price, updated_at, is_archived, exported_dt,
    source_file_path, source_line_number
from latest
