-- One row per line item of the latest version of each order.
with versions as (
    select order_id, record from {{ ref('stg_crm__order_versions') }}
    where is_latest_version
),

items as (
    select
        versions.order_id,
        {{ json_array_elements('versions.record', '$.line_items') }} as item
    from versions
)

select
    {{ json_text('item', '$.id') }} as line_item_id,
    order_id,
    {{ json_text('item', '$.properties.hs_product_id') }} as product_id,
    {{ json_text('item', '$.properties.hs_sku') }} as sku,
    cast({{ json_text('item', '$.properties.price') }} as {{ dbt.type_numeric() }}) as unit_price,
    cast({{ json_text('item', '$.properties.quantity') }} as {{ dbt.type_int() }}) as quantity
from items
