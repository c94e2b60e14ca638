-- One row per distinct version (order id x updatedAt) of a HubSpot order, as of `as_of`.
-- Unchanged re-sends collapse here. Kept because refunds and cancellations are
-- later versions: their moment is the first version that shows them. The raw JSON is not
-- copied: a version points at its landing line (exported_dt, source_file_path,
-- source_line_number), where stg_crm__order_line_items reads the line items.
-- Incremental: a run parses only its window of dt= days (plus the late-data lookback),
-- adds the versions held for the orders it touches, and replaces those orders' versions
-- (is_latest_version recomputed over all of them).
{{ config(
    materialized='incremental',
    unique_key='order_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with source as (
    select * from {{ source('crm', 'orders') }}
    where _dt <= {{ as_of_date() }}
        and {{ incremental_dt_filter('_dt', 'exported_dt') }}
),

parsed as (
    select
        record_id as order_id,
        {{ json_text('record', '$.associations.contacts.results[0].id') }} as contact_id,
        {{ json_text('record', '$.properties.hs_order_name') }} as order_name,
        {{ json_text('record', '$.properties.hs_external_order_id') }} as external_order_id,
        upper({{ json_text('record', '$.properties.hs_currency_code') }}) as currency_code,
        coalesce({{ landing_cast('record', 'crm__orders', '$.properties.hs_subtotal_price') }}, 0)
            as subtotal_amount,
        coalesce({{ landing_cast('record', 'crm__orders', '$.properties.hs_shipping_cost') }}, 0)
            as shipping_amount,
        {{ landing_cast('record', 'crm__orders', '$.properties.hs_total_price') }} as total_amount,
        coalesce({{ landing_cast('record', 'crm__orders', '$.properties.hs_refund_amount') }}, 0)
            as refund_amount,
        lower({{ json_text('record', '$.properties.hs_fulfillment_status') }}) as fulfillment_status,
        lower({{ json_text('record', '$.properties.hs_source_store') }}) as source_store,
        {{ landing_cast('record', 'crm__orders', '$.createdAt') }} as created_at,
        {{ landing_cast('record', 'crm__orders', '$.updatedAt') }} as updated_at,
        coalesce({{ landing_cast('record', 'crm__orders', '$.archived') }}, false) as is_archived,
        _dt as exported_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from source
),

candidates as (
    select * from parsed
    {% if is_incremental() %}
    union all
    select
        held.order_id, held.contact_id, held.order_name, held.external_order_id, held.currency_code,
        held.subtotal_amount, held.shipping_amount, held.total_amount, held.refund_amount,
        held.fulfillment_status, held.source_store, held.created_at, held.updated_at, held.is_archived,
        held.exported_dt, held.source_file_path, held.source_line_number
    from {{ this }} as held
    where held.order_id in (select parsed.order_id from parsed)
    {% endif %}
),

versions as (
    {{ latest_per_key(
        'candidates', 'order_id, updated_at',
        'exported_dt desc, source_file_path desc, source_line_number desc',
    ) }}
)

select
    order_id,
    updated_at,
    row_number() over (partition by order_id order by updated_at desc) = 1 as is_latest_version,
    contact_id,
    order_name,
    external_order_id,
    currency_code,
    subtotal_amount,
    shipping_amount,
    total_amount,
    refund_amount,
    fulfillment_status,
    source_store,
    created_at,
    is_archived,
    exported_dt,
    source_file_path,
    source_line_number
from versions
