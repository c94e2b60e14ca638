-- One row per line item of the latest version of each order.
-- Incremental (delete+insert on order_id): a run re-reads the orders whose latest version
-- was exported in its window (plus the late-data lookback) and replaces their line items.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='order_id', on_schema_change='fail') }}

with versions as (
    select order_id, record, exported_dt from {{ ref('stg_crm__order_versions') }}
    where is_latest_version
        and {{ incremental_dt_filter('exported_dt', 'exported_dt') }}
),

items as (
    select
        versions.order_id,
        versions.exported_dt,
        {{ json_array_elements('versions.record', '$.line_items') }} as item
    from versions
)

select
    {{ json_text('item', '$.id') }} as line_item_id,
    order_id,
    {{ json_text('item', '$.properties.hs_product_id') }} as product_id,
    {{ json_text('item', '$.properties.hs_sku') }} as sku,
    cast({{ json_text('item', '$.properties.price') }} as {{ dbt.type_numeric() }}) as unit_price,
    cast({{ json_text('item', '$.properties.quantity') }} as {{ dbt.type_int() }}) as quantity,
    exported_dt
from items
