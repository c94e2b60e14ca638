-- One row per HubSpot product: its latest version as of `as_of`.
with source as (
    select * from {{ source('crm', 'products') }}
    where _dt <= {{ as_of_date() }}
),

parsed as (
    select
        record_id as product_id,
        {{ json_text('record', '$.properties.name') }} as product_name,
        {{ json_text('record', '$.properties.hs_sku') }} as sku,
        lower({{ json_text('record', '$.properties.category') }}) as category,
        cast({{ json_text('record', '$.properties.price') }} as {{ dbt.type_numeric() }}) as list_price,
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        coalesce(cast({{ json_text('record', '$.archived') }} as boolean), false) as is_archived,
        _dt,
        _file_path,
        _line_number
    from source
),

latest as (
    {{ latest_per_key('parsed', 'product_id', 'updated_at desc, _dt desc, _file_path desc, _line_number desc') }}
)

select product_id, product_name, sku, category, list_price, updated_at, is_archived
from latest
