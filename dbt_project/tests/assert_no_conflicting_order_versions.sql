-- WARN: two versions of one order with the same updatedAt but different amounts, status,
-- currency or contact. stg_crm__order_versions keeps the later one (export day, then file
-- path, then line: macros/cdc_version_conflicts.sql); this lists each order id so that the
-- export can be checked. It never blocks a build.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_crm__order_versions'}}}) }}
-- depends_on: {{ ref('stg_crm__order_versions') }}

{{ cdc_version_conflicts(source('crm', 'orders'), 'order_id', [
    '$.properties.hs_total_price', '$.properties.hs_subtotal_price', '$.properties.hs_shipping_cost',
    '$.properties.hs_refund_amount', '$.properties.hs_fulfillment_status', '$.properties.hs_currency_code',
    '$.properties.hs_external_order_id', '$.properties.hs_source_store', '$.archived',
    '$.associations.contacts.results[0].id',
]) }}
