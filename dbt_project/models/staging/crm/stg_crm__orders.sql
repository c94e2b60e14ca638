-- One row per HubSpot order: its latest version as of `as_of`.
-- A view: it parses nothing (stg_crm__order_versions did), so a table would only copy the
-- 650 k latest versions again on every run.
{{ config(materialized='view') }}
with versions as (
    select * from {{ ref('stg_crm__order_versions') }}
)

select
    order_id,
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
    updated_at,
    is_archived,
    exported_dt
from versions
where is_latest_version
