-- One row per line item of the latest version of each order, parsed from that version's
-- landing line in the raw orders (the version points at it).
-- Incremental (delete+insert on order_id): a run re-reads the orders whose latest version
-- was exported in its window (plus the late-data lookback) and replaces their line items.
{{ config(
    materialized='incremental',
    unique_key='order_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with versions as (
    select order_id, exported_dt, source_file_path, source_line_number
    from {{ ref('stg_crm__order_versions') }}
    where is_latest_version
        and {{ incremental_dt_filter('exported_dt', 'exported_dt') }}
),

landed as (
    -- the same days of raw orders (a literal bound, so older row groups are skipped)
    select _dt, _file_path, _line_number, record
    from {{ source('crm', 'orders') }}
    where {{ incremental_dt_filter('_dt', 'exported_dt') }}
),

items as (
    select
        versions.order_id,
        versions.exported_dt,
        {{ json_array_elements('landed.record', '$.line_items') }} as item
    from versions
    inner join landed
        on versions.exported_dt = landed._dt
            and versions.source_file_path = landed._file_path
            and versions.source_line_number = landed._line_number
)

select
    {{ json_text('item', '$.id') }} as line_item_id,
    order_id,
    {{ json_text('item', '$.properties.hs_product_id') }} as product_id,
    {{ json_text('item', '$.properties.hs_sku') }} as sku,
    {{ landing_cast('item', 'crm__orders', '$.line_items[*].properties.price') }} as unit_price,
    {{ landing_cast('item', 'crm__orders', '$.line_items[*].properties.quantity') }} as quantity,
    exported_dt
from items
